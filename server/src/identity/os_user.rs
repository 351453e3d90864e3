//! The local account name, used (unverified) when no identity token is configured.

use std::ffi::CStr;

/// Name of the effective user from the password database, else `$USER`, else `uid:N`.
pub fn name() -> String {
    // SAFETY: getuid never fails.
    let uid = unsafe { libc::getuid() };
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: all pointers reference live, correctly sized buffers owned by this frame.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc == 0 && !result.is_null() && !pwd.pw_name.is_null() {
        // SAFETY: on success pw_name points to a NUL-terminated string inside `buf`.
        let n = unsafe { CStr::from_ptr(pwd.pw_name) };
        if let Ok(s) = n.to_str()
            && !s.is_empty()
        {
            return s.to_string();
        }
    }
    std::env::var("USER").unwrap_or_else(|_| format!("uid:{uid}"))
}
