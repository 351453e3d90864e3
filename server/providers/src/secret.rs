//! API keys: held in memory only, never printed, scrubbed from anything a server echoes back.

use std::fmt;

/// An API key. `Debug` is redacted and there is no `Display`, so a key cannot reach a log or an error
/// by accident; [`ApiKey::redact`] scrubs it from server-provided text (some vendors echo the key).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into().trim().to_owned())
    }

    /// The raw key, for building an auth header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// The key as a header value (`prefix` + key, e.g. `Bearer `), marked sensitive so HTTP
    /// tooling never logs it: the one way a key becomes a header for every wire format.
    pub(crate) fn header_value(
        &self,
        prefix: &str,
    ) -> Result<reqwest::header::HeaderValue, String> {
        let mut v = reqwest::header::HeaderValue::from_str(&format!("{prefix}{}", self.0))
            .map_err(|_| "the API key contains characters not allowed in a header".to_owned())?;
        v.set_sensitive(true);
        Ok(v)
    }

    /// Replace every occurrence of the key (and of any 8+ character prefix that a vendor might print
    /// in a "key sk-abc…xyz is invalid" message) with a marker.
    pub fn redact(&self, text: &str) -> String {
        let key = self.0.as_str();
        if key.is_empty() {
            return text.to_owned();
        }
        let mut out = text.replace(key, "[redacted]");
        // Vendors mask the middle but print the start of the key; a prefix of 8+ characters is still
        // enough to identify it, so remove those too.
        if key.len() >= 12 {
            let prefix = &key[..key.floor_char_boundary(8)];
            out = out.replace(prefix, "[redacted]");
        }
        out
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

/// Redact with an optional key; without a key there is nothing to scrub.
pub(crate) fn redact(key: Option<&ApiKey>, text: &str) -> String {
    match key {
        Some(k) => k.redact(text),
        None => text.to_owned(),
    }
}
