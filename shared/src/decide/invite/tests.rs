#![allow(clippy::type_complexity)] // tables of cases

use super::*;
use chrono::Duration;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn secret(s: &str) -> Secret {
    Secret::new(s)
}

#[test]
fn an_invite_round_trips_through_its_token_at_whole_seconds() {
    // Made at a sub-second instant: the token keeps whole seconds, and so does the invite.
    let made = at("2026-12-06T09:15:42.987654321Z");
    let invite = Invite::new("alice", made, Duration::days(30)).unwrap();
    assert_eq!(invite.issued, at("2026-12-06T09:15:42Z"));
    let token = invite.token(&secret("s3cret"));
    let read = Invite::verify(&token, &[secret("s3cret")], &[], made + Duration::milliseconds(1)).unwrap();
    assert_eq!(read, invite);
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "{token}");
}

#[test]
fn tokens_that_must_not_wake_are_refused_with_their_reason() {
    let made = at("2026-12-06T09:15:42.5Z");
    let alice = Invite::new("alice", made, Duration::days(1)).unwrap();
    let token = alice.token(&secret("s3cret"));
    let later = made + Duration::hours(1);
    let revoked_after = Revocation { name: "alice".into(), at: made + Duration::minutes(1), by: "ops".into() };
    let revoked_before = Revocation { name: "alice".into(), at: made - Duration::minutes(1), by: "ops".into() };
    let bob_revoked = Revocation { name: "bob".into(), at: later, by: "ops".into() };
    // Another person's name on alice's signature.
    let swapped = token.replacen("alice", "bob", 1);
    let longer =
        token.replacen(&alice.expires.timestamp().to_string(), &(alice.expires.timestamp() + 86_400).to_string(), 1);
    let cases: Vec<(&str, String, Vec<Secret>, Vec<Revocation>, DateTime<Utc>, Option<Refused>)> = vec![
        ("valid", token.clone(), vec![secret("s3cret")], vec![], later, None),
        ("rotating: the old secret second", token.clone(), vec![secret("new"), secret("s3cret")], vec![], later, None),
        ("another secret", token.clone(), vec![secret("other")], vec![], later, Some(Refused::Forged)),
        ("name swapped", swapped, vec![secret("s3cret")], vec![], later, Some(Refused::Forged)),
        ("expiry stretched", longer, vec![secret("s3cret")], vec![], later, Some(Refused::Forged)),
        ("garbage", "v1.alice".into(), vec![secret("s3cret")], vec![], later, Some(Refused::Forged)),
        ("not hex", format!("{token}zz"), vec![secret("s3cret")], vec![], later, Some(Refused::Forged)),
        ("empty", String::new(), vec![secret("s3cret")], vec![], later, Some(Refused::Forged)),
        (
            "expired, to the second",
            token.clone(),
            vec![secret("s3cret")],
            vec![],
            alice.expires,
            Some(Refused::Expired { name: "alice".into(), expired: crate::time::rfc3339(alice.expires) }),
        ),
        (
            "revoked after it was issued",
            token.clone(),
            vec![secret("s3cret")],
            vec![revoked_after],
            later,
            Some(Refused::Revoked { name: "alice".into() }),
        ),
        ("a revocation before it was issued", token.clone(), vec![secret("s3cret")], vec![revoked_before], later, None),
        ("someone else revoked", token.clone(), vec![secret("s3cret")], vec![bob_revoked], later, None),
        ("no secret configured", token, vec![], vec![], later, Some(Refused::NoSecret)),
    ];
    for (name, token, secrets, revoked, now, want) in cases {
        let got = Invite::verify(&token, &secrets, &revoked, now);
        match want {
            None => assert_eq!(got.as_ref().map(|i| i.name.as_str()), Ok("alice"), "{name}"),
            Some(want) => assert_eq!(got, Err(want), "{name}"),
        }
    }
}

#[test]
fn invite_names_are_checked() {
    for (name, ok) in [("alice", true), ("a-b_C9", true), ("", false), ("a.b", false), ("a b", false), ("é", false)] {
        assert_eq!(check_name(name).is_ok(), ok, "{name:?}");
    }
    assert!(check_name(&"x".repeat(41)).is_err());
    assert!(Invite::new("alice", at("2026-12-06T09:00:00Z"), Duration::zero()).is_err());
}
