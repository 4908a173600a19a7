//! Phone numbers verified by SMS code, discoverability, and contact lookups
//! that never reveal undiscoverable users.

use std::sync::Arc;

use beep_core::social::MemorySms;
use serde_json::json;

use super::{code, find_contacts, phone_code, set_phone};
use crate::harness::{TestServer, TestUser};

/// The six-digit code in the last SMS to `phone`.
fn code_for(sms: &MemorySms, phone: &str) -> String {
    let text = sms.last_to(phone).expect("an SMS was sent");
    text.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()[..6]
        .to_owned()
}

/// Add and verify `phone` for `who`.
async fn verify(
    ts: &TestServer,
    sms: &MemorySms,
    who: &TestUser,
    phone: &str,
) -> (u16, serde_json::Value) {
    let (s, v) = set_phone(ts, who, json!({"phone": phone})).await;
    assert_eq!(s, 200, "{v}");
    let c = code_for(sms, phone);
    phone_code(ts, who, json!({"code": c})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_are_verified_by_sms_and_only_discoverable_users_are_found() {
    let ts = TestServer::start().await;
    let sms = Arc::new(MemorySms::default());
    ts.node
        .as_ref()
        .expect("node")
        .services
        .social
        .set_sms_sender(sms.clone());
    let alice = ts.user("alice").await;
    let bob = ts.user("bob").await;
    let carol = ts.user("carol").await;
    let dave = ts.user("dave").await;

    // Bad numbers.
    for bad in [
        "14155550123",
        "+0123456789",
        "+1 415 555 0123",
        "+1234567",
        "+1234567890123456",
        "",
    ] {
        let (s, v) = set_phone(&ts, &alice, json!({"phone": bad})).await;
        assert_eq!((s, code(&v)), (400, 50035), "{bad:?}: {v}");
    }
    let (s, v) = set_phone(&ts, &alice, json!({"discoverable": true})).await;
    assert_eq!(
        (s, code(&v)),
        (400, 50035),
        "discoverable without a number: {v}"
    );

    // A wrong code, then the right one.
    let (s, v) = set_phone(&ts, &alice, json!({"phone": "+14155550123"})).await;
    assert_eq!(
        (s, v["phone"].is_null()),
        (200, true),
        "not yet verified: {v}"
    );
    let right = code_for(&sms, "+14155550123");
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (s, v) = phone_code(&ts, &alice, json!({"code": wrong})).await;
    assert_eq!((s, code(&v)), (400, 50035), "wrong code: {v}");
    let (s, v) = phone_code(&ts, &alice, json!({"code": "12"})).await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = phone_code(&ts, &alice, json!({"code": right})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["phone"].as_str(), v["discoverable"].as_bool()),
        (Some("+14155550123"), Some(false))
    );
    let (s, v) = phone_code(&ts, &alice, json!({"code": right})).await;
    assert_eq!(s, 400, "a code works once: {v}");
    let (s, v) = set_phone(&ts, &alice, json!({"discoverable": true})).await;
    assert_eq!((s, v["discoverable"].as_bool()), (200, Some(true)), "{v}");

    // The same number cannot be verified by another account.
    let (s, v) = verify(&ts, &sms, &bob, "+14155550123").await;
    assert_eq!((s, code(&v)), (409, 40007), "{v}");
    // Carol verifies hers but stays undiscoverable.
    let (s, _) = verify(&ts, &sms, &carol, "+447700900123").await;
    assert_eq!(s, 200);

    let (s, found) = find_contacts(
        &ts,
        &dave,
        json!({"phone_numbers": ["+14155550123", "+447700900123", "+15555550100"]}),
    )
    .await;
    assert_eq!(s, 200, "{found}");
    let found = found.as_array().expect("array");
    assert_eq!(found.len(), 1, "only the discoverable user: {found:?}");
    assert_eq!(found[0]["user"]["id"], alice.id.as_str());
    assert_eq!(found[0]["phone_number"], "+14155550123");

    // Refusals: a bad number names its index; too many or none.
    let (s, v) = find_contacts(
        &ts,
        &dave,
        json!({"phone_numbers": ["+14155550123", "555"]}),
    )
    .await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
    assert!(v["errors"]["phone_numbers"]["1"].is_object(), "{v}");
    let many: Vec<String> = (0..101).map(|i| format!("+1415555{i:04}")).collect();
    let (s, v) = find_contacts(&ts, &dave, json!({"phone_numbers": many})).await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
    let (s, v) = find_contacts(&ts, &dave, json!({"phone_numbers": []})).await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");

    // Hiding or removing the number hides the user.
    let (s, _) = set_phone(&ts, &alice, json!({"discoverable": false})).await;
    assert_eq!(s, 200);
    let (_, found) = find_contacts(&ts, &dave, json!({"phone_numbers": ["+14155550123"]})).await;
    assert_eq!(found.as_array().map(Vec::len), Some(0), "{found}");
    let (s, _) = ts.delete("/users/@me/phone", alice.auth()).await;
    assert_eq!(s, 204);
    let (_, v) = ts.get("/users/@me/phone", alice.auth()).await;
    assert!(v["phone"].is_null(), "{v}");
}
