//! Pure helpers: Retry-After parsing, backoff bounds, key redaction, finish-reason mapping.

use std::time::{Duration, UNIX_EPOCH};

use crate::config::RetryPolicy;
use crate::retry::{backoff, parse_http_date, parse_retry_after};
use crate::{ApiKey, FinishReason};

#[test]
fn retry_after_accepts_seconds_and_http_dates() {
    let now = UNIX_EPOCH + Duration::from_secs(784_111_770); // Sun, 06 Nov 1994 08:49:30 GMT
    assert_eq!(
        parse_retry_after("120", now),
        Some(Duration::from_secs(120))
    );
    assert_eq!(
        parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
        Some(Duration::from_secs(7))
    );
    assert_eq!(
        parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now),
        Some(Duration::ZERO),
        "a past date means now"
    );
    assert_eq!(parse_retry_after("soon", now), None);
    assert_eq!(parse_retry_after("-1", now), None);
    assert_eq!(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"), None);
    assert_eq!(
        parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"),
        Some(UNIX_EPOCH)
    );
    assert_eq!(
        parse_http_date("Tue, 29 Feb 2028 12:00:00 GMT"),
        Some(UNIX_EPOCH + Duration::from_secs(1_835_438_400))
    );
}

#[test]
fn backoff_grows_and_stays_within_the_cap() {
    let policy = RetryPolicy {
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(1000),
        ..RetryPolicy::default()
    };
    for _ in 0..200 {
        let d1 = backoff(&policy, 1);
        assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
        let d3 = backoff(&policy, 3);
        assert!(d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400));
        let d30 = backoff(&policy, 30);
        assert!(d30 >= Duration::from_millis(500) && d30 <= Duration::from_millis(1000));
    }
}

#[test]
fn keys_are_redacted_whole_and_by_prefix_and_never_debug_printed() {
    let key = ApiKey::new("sk-proj-ABCDEFGHIJKLMNOP");
    let text = key.redact("bad key sk-proj-ABCDEFGHIJKLMNOP and sk-proj-A***NOP");
    assert!(!text.contains("ABCDEFGHIJKLMNOP"), "{text}");
    assert!(!text.contains("sk-proj-"), "{text}");
    assert_eq!(format!("{key:?}"), "ApiKey([redacted])");
}

#[test]
fn finish_reasons_normalise_across_vendors() {
    assert_eq!(FinishReason::from_vendor("end_turn"), FinishReason::Stop);
    assert_eq!(
        FinishReason::from_vendor("MAX_TOKENS"),
        FinishReason::Length
    );
    assert_eq!(
        FinishReason::from_vendor("tool_use"),
        FinishReason::ToolCalls
    );
    assert_eq!(
        FinishReason::from_vendor("SAFETY"),
        FinishReason::ContentFilter
    );
    assert_eq!(
        FinishReason::from_vendor("brand_new"),
        FinishReason::Other("brand_new".into())
    );
}

#[test]
fn gemini_retry_delay_is_read_from_the_error_body() {
    use crate::http::retry_delay_in_body;
    let body = r#"[{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}}]"#;
    assert_eq!(retry_delay_in_body(body), Some(Duration::from_secs(37)));
    assert_eq!(
        retry_delay_in_body(r#"{"retryDelay":"0.5s"}"#),
        Some(Duration::from_millis(500))
    );
    assert_eq!(retry_delay_in_body(r#"{"retryDelay":"soon"}"#), None);
    assert_eq!(retry_delay_in_body("{}"), None);
}
