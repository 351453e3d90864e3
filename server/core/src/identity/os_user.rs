//! The local account name, used (unverified) when no identity token is configured.

/// Name of the effective user from the password database (NSS included), else `$USER`, else `uid:N`.
pub fn name() -> String {
    let uid = nix::unistd::getuid();
    if let Ok(Some(user)) = nix::unistd::User::from_uid(uid)
        && !user.name.is_empty()
    {
        return user.name;
    }
    std::env::var("USER").unwrap_or_else(|_| format!("uid:{uid}"))
}
