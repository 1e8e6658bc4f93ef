use super::*;
use crate::decide::front_door::WakeRefusal;
use std::time::Duration;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// UTC+1 in December, so a local time is never the UTC one.
const PARIS: Tz = chrono_tz::Europe::Paris;
const HOUR: Duration = Duration::from_secs(3600);
const NOW: &str = "2026-12-06T19:02:03.456789Z";
const HOSTILE: &str = "<script>alert(\"x&y\")</script>";

fn asleep() -> View {
    View {
        environment: "staging".into(),
        state: Sleep::Asleep,
        steps: vec![],
        woken_by: None,
        eta_seconds: Some(90),
        deep_sleep: false,
        guest: None,
        refusal: None,
        back_to: "/orders/42".into(),
        warning: None,
        refresh_seconds: 60,
        now: utc(NOW),
    }
}

fn with_guest() -> View {
    View { guest: Some("ada".into()), ..asleep() }
}

fn refused() -> View {
    View {
        refusal: Some(WakeRefusal {
            status: 429,
            reason: "ada has woken staging 3 times today, the most STAGING_WAKE_PER_DAY allows".into(),
            retry_after: Some(utc("2026-12-06T23:00:00.250Z")),
        }),
        ..with_guest()
    }
}

fn waking() -> View {
    View {
        state: Sleep::Waking,
        steps: vec![
            Step { name: "wake asked", at: Some(utc("2026-12-06T19:00:01.5Z")) },
            Step { name: "tasks running", at: Some(utc(NOW)) },
            Step { name: "healthy behind the load balancer", at: None },
            Step { name: "the app answers its health probe", at: None },
        ],
        woken_by: Some("ada".into()),
        eta_seconds: Some(38),
        guest: Some("grace".into()),
        refresh_seconds: 5,
        ..asleep()
    }
}

fn ready() -> View {
    View {
        state: Sleep::Ready,
        steps: waking().steps.into_iter().map(|s| Step { at: s.at.or(Some(utc(NOW))), ..s }).collect(),
        woken_by: Some("ada".into()),
        eta_seconds: None,
        refresh_seconds: 0,
        ..asleep()
    }
}

/// Every kind of page, named.
fn pages() -> Vec<(&'static str, View)> {
    vec![
        ("asleep", asleep()),
        ("asleep, deep", View { deep_sleep: true, eta_seconds: Some(600), ..asleep() }),
        ("asleep, guest", with_guest()),
        ("asleep, refused", refused()),
        ("waking", waking()),
        ("ready", ready()),
    ]
}

fn page(view: &View) -> String {
    html(view, PARIS, HOUR)
}

#[test]
fn each_state_says_itself_in_data_state_heading_title_and_refresh() {
    let cases = [
        (asleep(), "asleep", "<meta http-equiv=\"refresh\" content=\"60\">"),
        (waking(), "waking", "<meta http-equiv=\"refresh\" content=\"5\">"),
        (ready(), "ready", "<meta http-equiv=\"refresh\" content=\"0; url=/orders/42\">"),
    ];
    for (view, state, refresh) in cases {
        let p = page(&view);
        assert!(p.starts_with("<!DOCTYPE html>"), "{state}");
        assert!(p.contains(&format!("<main data-state=\"{state}\">")), "{state}: {p}");
        assert!(p.contains(&format!("<h1>staging is {state}</h1>")), "{state}");
        assert!(p.contains(&format!("<title>staging is {state} · Staging Control</title>")), "{state}");
        assert!(p.contains(refresh), "{state}: {p}");
        assert_eq!(p.matches("http-equiv=\"refresh\"").count(), 1, "{state}");
        assert!(p.contains("name=\"viewport\""), "{state}");
    }
}

#[test]
fn a_refresh_faster_than_the_floor_is_slowed_to_it() {
    let p = page(&View { refresh_seconds: 1, ..waking() });
    assert!(p.contains("content=\"5\""), "{p}");
}

#[test]
fn no_page_runs_a_script_or_fetches_anything() {
    for (name, view) in pages() {
        let p = page(&view).to_ascii_lowercase();
        for banned in ["<script", "http://", "https://", "src=", "@import", "url(", "<link", "<img", "<iframe"] {
            assert!(!p.contains(banned), "{name}: {banned} in {p}");
        }
        // The one link is the way back, on this site.
        for (i, _) in p.match_indices("href=") {
            assert!(p[i..].starts_with("href=\"/"), "{name}: {}", &p[i..i + 40]);
        }
    }
}

#[test]
fn the_wake_form_is_offered_only_to_a_guest_not_refused() {
    let no_invite = WakeRefusal { status: 401, reason: "no invite".into(), retry_after: None };
    let locked = WakeRefusal { status: 403, reason: "locked by the budget".into(), retry_after: None };
    // (case, view, form, the invite hint)
    let cases = [
        ("no guest", asleep(), false, true),
        ("a guest", with_guest(), true, false),
        ("a guest over a quota", refused(), false, false),
        ("no invite, refused", View { refusal: Some(no_invite), ..asleep() }, false, true),
        ("no guest, locked", View { refusal: Some(locked), ..asleep() }, false, false),
        ("a guest while waking", waking(), false, false),
        ("ready", View { guest: Some("ada".into()), ..ready() }, false, false),
    ];
    for (case, view, form, hint) in cases {
        let p = page(&view);
        assert_eq!(p.contains("<form method=\"post\" action=\"/_staging/wake\">"), form, "{case}: {p}");
        assert_eq!(p.contains("<button"), form, "{case}");
        assert_eq!(p.contains("Waking staging needs an invite"), hint, "{case}");
        if hint {
            assert!(p.contains("<code>stagingctl invite NAME</code>"), "{case}");
        }
    }
}

#[test]
fn the_wake_form_sends_back_to_the_path_and_names_the_wake_length() {
    let p = page(&with_guest());
    assert!(p.contains("<input type=\"hidden\" name=\"next\" value=\"/orders/42\">"), "{p}");
    assert!(p.contains("invited as <strong>ada</strong>"), "{p}");
    let cases = [
        (Duration::from_secs(3600), "Wake for 1 h"),
        (Duration::from_secs(2 * 3600), "Wake for 2 h"),
        (Duration::from_secs(5400), "Wake for 1 h 30 min"),
        (Duration::from_secs(45 * 60), "Wake for 45 min"),
        (Duration::from_secs(90), "Wake for 90 s"),
    ];
    for (wake_for, button) in cases {
        let p = html(&with_guest(), PARIS, wake_for);
        assert!(p.contains(&format!(">{button}</button>")), "{button}: {p}");
    }
}

#[test]
fn a_refusal_shows_its_reason_and_when_it_ends_in_local_time() {
    let p = page(&refused());
    assert!(p.contains("the most STAGING_WAKE_PER_DAY allows"), "{p}");
    assert!(p.contains("role=\"alert\""));
    // 23:00:00.25 UTC is midnight in Paris, the next day.
    assert!(p.contains("<time datetime=\"2026-12-06T23:00:00.250Z\">Mon 7 Dec 00:00</time>"), "{p}");

    let today = View {
        refusal: Some(WakeRefusal {
            status: 403,
            reason: "staging is locked by the budget".into(),
            retry_after: Some(utc("2026-12-06T21:30:00Z")),
        }),
        ..with_guest()
    };
    assert!(page(&today).contains(">22:30</time>"), "{}", page(&today));
}

#[test]
fn asleep_says_how_long_a_wake_takes_and_whether_the_stack_comes_back() {
    let cases = [
        (asleep(), "A wake takes about 90 s.", false),
        (View { eta_seconds: Some(600), deep_sleep: true, ..asleep() }, "A wake takes about 10 min", true),
    ];
    for (view, eta, deep) in cases {
        let p = page(&view);
        assert!(p.contains(eta), "{eta}: {p}");
        assert_eq!(p.contains("from a deep sleep: the stack is created again"), deep, "{eta}");
        assert!(p.contains(&format!("data-eta-seconds=\"{}\"", view.eta_seconds.unwrap())), "{eta}");
    }
}

#[test]
fn waking_lists_the_steps_in_order_with_local_times_and_pending_ones() {
    let p = page(&waking());
    assert!(p.contains("<ol class=\"steps\""), "{p}");
    assert!(p.contains("data-eta-seconds=\"38\">Ready in about <strong>38 s</strong>"), "{p}");
    assert!(p.contains("Woken by <strong>ada</strong>"), "{p}");
    // Paris is UTC+1: sub-seconds are dropped from the time shown, kept in `datetime`.
    assert!(p.contains("<time datetime=\"2026-12-06T19:00:01.500Z\">20:00:01</time>"), "{p}");
    assert!(p.contains("<time datetime=\"2026-12-06T19:02:03.456789Z\">20:02:03</time>"), "{p}");
    assert_eq!(p.matches("<li class=\"done\">").count(), 2);
    assert_eq!(p.matches(">pending</span>").count(), 2);
    assert_eq!(p.matches("<li class=\"pending next\">").count(), 1, "the first pending step is the next");
    let order: Vec<usize> = waking().steps.iter().map(|s| p.find(s.name).unwrap()).collect();
    assert!(order.is_sorted(), "{order:?}");
    assert!(p.contains("Times are Europe/Paris."));
}

#[test]
fn waking_past_its_eta_says_any_moment_now() {
    let p = page(&View { eta_seconds: Some(0), ..waking() });
    assert!(p.contains("data-eta-seconds=\"0\">Ready any moment now."), "{p}");
}

#[test]
fn ready_sends_back_to_the_path_at_once_and_links_it() {
    let p = page(&ready());
    assert!(p.contains("<meta http-equiv=\"refresh\" content=\"0; url=/orders/42\">"), "{p}");
    assert!(p.contains("<a href=\"/orders/42\">Continue to /orders/42</a>"), "{p}");
    assert!(!p.contains("pending"));
}

#[test]
fn a_way_back_that_could_leave_the_site_goes_home_instead() {
    for path in
        ["//elsewhere.example/x", "/\\elsewhere.example", "/<script>", "javascript:alert(1)", "/_staging/wake", ""]
    {
        let p = page(&View { back_to: path.into(), ..ready() });
        assert!(p.contains("content=\"0; url=/\""), "{path}: {p}");
        assert!(p.contains("<a href=\"/\">Continue to /</a>"), "{path}");
        assert_eq!(json(&View { back_to: path.into(), ..ready() })["back_to"], "/", "{path}");
    }
}

#[test]
fn everything_from_the_view_is_escaped() {
    let view = View {
        environment: HOSTILE.into(),
        guest: Some(HOSTILE.into()),
        warning: Some(HOSTILE.into()),
        back_to: "/search?q=a&b='x'".into(),
        ..asleep()
    };
    let escaped = "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;";
    let path = "/search?q=a&amp;b=&#39;x&#39;";
    let asleep_page = page(&view);
    let refused_page = page(&View {
        refusal: Some(WakeRefusal { status: 403, reason: HOSTILE.into(), retry_after: None }),
        ..view.clone()
    });
    let waking_page = page(&View { state: Sleep::Waking, woken_by: Some(HOSTILE.into()), ..view.clone() });
    let ready_page = page(&View { state: Sleep::Ready, ..view.clone() });
    for (name, p) in
        [("asleep", &asleep_page), ("refused", &refused_page), ("waking", &waking_page), ("ready", &ready_page)]
    {
        assert!(!p.to_ascii_lowercase().contains("<script"), "{name}: {p}");
        assert!(p.contains(&format!("<h1>{escaped} is ")), "{name}: {p}");
        assert!(p.contains(&format!("<title>{escaped} is ")), "{name}");
        assert!(p.contains(&format!("</strong> {escaped}</p>")), "{name}: the warning");
    }
    assert!(asleep_page.contains(&format!("invited as <strong>{escaped}</strong>")), "{asleep_page}");
    assert!(asleep_page.contains(&format!("name=\"next\" value=\"{path}\"")), "{asleep_page}");
    assert!(refused_page.contains(&format!("<p>{escaped}</p>")), "{refused_page}");
    assert!(waking_page.contains(&format!("Woken by <strong>{escaped}</strong>")), "{waking_page}");
    assert!(ready_page.contains(&format!("content=\"0; url={path}\"")), "{ready_page}");
    assert!(ready_page.contains(&format!("<a href=\"{path}\">Continue to {path}</a>")), "{ready_page}");
}

#[test]
fn json_says_the_state_the_steps_and_the_refusal() {
    assert_eq!(
        json(&waking()),
        json!({
            "state": "waking",
            "environment": "staging",
            "eta_seconds": 38,
            "steps": [
                { "name": "wake asked", "at": "2026-12-06T19:00:01.500Z" },
                { "name": "tasks running", "at": "2026-12-06T19:02:03.456789Z" },
                { "name": "healthy behind the load balancer", "at": null },
                { "name": "the app answers its health probe", "at": null },
            ],
            "woken_by": "ada",
            "warning": null,
            "reason": null,
            "retry_after": null,
            "back_to": "/orders/42",
        })
    );
    let refused = json(&View { warning: Some("stops at 20:35: no requests since 20:05".into()), ..refused() });
    assert_eq!(refused["state"], "asleep");
    assert_eq!(refused["eta_seconds"], 90);
    assert_eq!(refused["steps"], json!([]));
    assert_eq!(refused["woken_by"], Value::Null);
    assert_eq!(refused["warning"], "stops at 20:35: no requests since 20:05");
    assert_eq!(refused["reason"], "ada has woken staging 3 times today, the most STAGING_WAKE_PER_DAY allows");
    assert_eq!(refused["retry_after"], "2026-12-06T23:00:00.250Z");
    assert_eq!(json(&ready())["eta_seconds"], Value::Null);
}

#[test]
fn retry_after_is_the_refusals_end_the_eta_or_the_refresh_never_under_five() {
    let refusal = |retry_after: Option<&str>| {
        Some(WakeRefusal { status: 429, reason: "quota".into(), retry_after: retry_after.map(utc) })
    };
    let cases = [
        // 19:02:03.456789 → 23:00:00.25: 14276.793211 s, rounded up.
        ("refused until tonight", refused(), 14_277),
        ("refused, a second away", View { refusal: refusal(Some("2026-12-06T19:02:04Z")), ..asleep() }, 5),
        ("refused, already past", View { refusal: refusal(Some("2026-12-06T19:00:00Z")), ..asleep() }, 5),
        ("refused for good", View { refusal: refusal(None), ..asleep() }, 60),
        ("waking", waking(), 38),
        ("waking, nearly there", View { eta_seconds: Some(2), ..waking() }, 5),
        ("waking, no eta", View { eta_seconds: None, refresh_seconds: 7, ..waking() }, 7),
        ("asleep", asleep(), 60),
        ("ready", ready(), 5),
    ];
    for (case, view, secs) in cases {
        assert_eq!(retry_after_seconds(&view), secs, "{case}");
    }
}

#[test]
fn the_idle_warning_is_shown_prominently_only_when_there_is_one() {
    let warning = "stops at 20:35: no requests since 20:05";
    for (name, view) in pages() {
        assert!(!page(&view).contains("class=\"warning\""), "{name}");
        let p = page(&View { warning: Some(warning.into()), ..view });
        assert!(
            p.contains(&format!("<p class=\"warning\" role=\"alert\"><strong>Idle stop:</strong> {warning}</p>")),
            "{name}"
        );
    }
}

#[test]
fn every_page_closes_what_it_opens() {
    for (name, view) in pages() {
        let p = page(&view);
        for tag in ["p", "div", "form", "ol", "li", "main", "footer", "strong", "time", "span", "h1", "h2", "a"] {
            let opened = p.matches(&format!("<{tag}>")).count() + p.matches(&format!("<{tag} ")).count();
            assert_eq!(opened, p.matches(&format!("</{tag}>")).count(), "{name}: <{tag}> in {p}");
        }
    }
}
