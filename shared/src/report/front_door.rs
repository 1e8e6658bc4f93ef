//! What the front door answers while staging sleeps, pure: the page a person sees (asleep,
//! waking with its steps, ready), the JSON an API client gets, and the `Retry-After` both
//! carry. The [`View`] (from [`decide::front_door::view`](crate::decide::front_door::view))
//! says what; this module only says it.
//!
//! The page is self-contained and works without JavaScript: inline CSS, no script, nothing
//! fetched from anywhere else; a meta refresh asks again while staging sleeps or wakes, and
//! sends the visitor back to the path they asked for once it is ready. Every text that comes
//! from the view is escaped, and the way back is checked again with
//! [`back_to`](crate::decide::front_door::back_to), so a view built by hand cannot send
//! anyone to another site.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::decide::front_door::{Sleep, Step, View, WAKE_PATH, back_to};
use crate::report::month_html::escape;

/// Appends to a `String` (which cannot fail).
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

/// The fewest seconds a `Retry-After` (and the page's refresh) says: clients that obey it
/// must not come back faster than the front door's look at a wake can change anything.
pub const MIN_RETRY_SECS: u64 = 5;

/// The page for `view`: one HTML5 document. Times are shown in `tz`; `wake_for` is how long
/// a wake keeps staging up (`STAGING_WAKE_FOR`), named on the wake button.
pub fn html(view: &View, tz: Tz, wake_for: std::time::Duration) -> String {
    let state = view.state.as_str();
    let env = escape(&view.environment);
    let back = escape(&back_to(Some(&view.back_to)));

    let mut o = String::with_capacity(8 * 1024);
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str("<meta name=\"robots\" content=\"noindex, nofollow\">\n");
    match view.state {
        Sleep::Ready => w!(o, "<meta http-equiv=\"refresh\" content=\"0; url={back}\">\n"),
        Sleep::Asleep | Sleep::Waking => w!(o, "<meta http-equiv=\"refresh\" content=\"{}\">\n", refresh_secs(view)),
    }
    w!(o, "<title>{env} is {state} · Staging Control</title>\n<style>{CSS}</style>\n</head>\n");
    w!(o, "<body>\n<main data-state=\"{state}\">\n");
    w!(o, "<p class=\"badge {state}\"><span class=\"dot\" aria-hidden=\"true\"></span>{}</p>\n", badge(view.state));
    w!(o, "<h1>{env} is {state}</h1>\n");

    if let Some(warning) = &view.warning {
        w!(o, "<p class=\"warning\" role=\"alert\"><strong>Idle stop:</strong> {}</p>\n", escape(warning));
    }
    match view.state {
        Sleep::Asleep => asleep(&mut o, view, tz, wake_for, &back),
        Sleep::Waking => waking(&mut o, view, tz),
        Sleep::Ready => ready(&mut o, view, tz, &back),
    }

    let again = match view.state {
        Sleep::Ready => String::new(),
        Sleep::Asleep | Sleep::Waking => {
            format!("This page looks again every {} by itself. ", seconds_or_minutes(refresh_secs(view).into()))
        }
    };
    w!(o, "<footer>\n<p>{again}Times are {}.</p>\n</footer>\n</main>\n</body>\n</html>\n", escape(tz.name()));
    o
}

/// The JSON body an API client gets (with `503` and [`retry_after_seconds`]): the state,
/// the ETA, the wake's steps (`at`: RFC 3339 in UTC, or null while pending), who woke it,
/// the idle warning, and why this request may not wake staging (and when it may again).
pub fn json(view: &View) -> Value {
    let steps: Vec<Value> = view.steps.iter().map(|s| json!({ "name": s.name, "at": s.at.map(instant) })).collect();
    let refusal = view.refusal.as_ref();
    json!({
        "state": view.state.as_str(),
        "environment": view.environment,
        "eta_seconds": view.eta_seconds,
        "steps": steps,
        "woken_by": view.woken_by,
        "warning": view.warning,
        "reason": refusal.map(|r| r.reason.clone()),
        "retry_after": refusal.and_then(|r| r.retry_after).map(instant),
        "back_to": back_to(Some(&view.back_to)),
    })
}

/// What `Retry-After` says, in whole seconds, never fewer than [`MIN_RETRY_SECS`]:
///
/// 1. refused with a time the refusal ends (a quota's reset, the budget's next period):
///    the seconds until then, rounded up;
/// 2. waking: the ETA (the next look, when there is none);
/// 3. otherwise (asleep, refused for good, ready): the page's refresh.
pub fn retry_after_seconds(view: &View) -> u64 {
    let reset = view.refusal.as_ref().and_then(|r| r.retry_after);
    let secs = match (reset, view.state) {
        (Some(until), _) => u64::try_from((until - view.now).num_milliseconds()).unwrap_or(0).div_ceil(1000),
        (None, Sleep::Waking) => {
            view.eta_seconds.map_or(view.refresh_seconds.into(), |s| u64::try_from(s).unwrap_or(0))
        }
        (None, _) => view.refresh_seconds.into(),
    };
    secs.max(MIN_RETRY_SECS)
}

/// The page's refresh while asleep or waking: the view's, never faster than [`MIN_RETRY_SECS`].
fn refresh_secs(view: &View) -> u32 {
    view.refresh_seconds.max(MIN_RETRY_SECS as u32)
}

fn badge(state: Sleep) -> &'static str {
    match state {
        Sleep::Asleep => "Asleep",
        Sleep::Waking => "Waking up",
        Sleep::Ready => "Ready",
    }
}

fn asleep(o: &mut String, view: &View, tz: Tz, wake_for: std::time::Duration, back: &str) {
    o.push_str("<p class=\"lead\">Staging sleeps to save money while nobody uses it.</p>\n");
    if let Some(eta) = view.eta_seconds {
        let deep = if view.deep_sleep { ", from a deep sleep: the stack is created again" } else { "" };
        w!(
            o,
            "<p class=\"eta\" data-eta-seconds=\"{eta}\">A wake takes about {}{deep}.</p>\n",
            seconds_or_minutes(eta)
        );
    }
    let needs_invite = view.guest.is_none() && view.refusal.as_ref().is_none_or(|r| r.status == 401);
    if let Some(refusal) = &view.refusal {
        o.push_str("<div class=\"refusal\" role=\"alert\">\n<h2>You can’t wake staging now</h2>\n");
        w!(o, "<p>{}</p>\n", escape(&refusal.reason));
        if let Some(at) = refusal.retry_after {
            w!(
                o,
                "<p>You can try again from <time datetime=\"{}\">{}</time>.</p>\n",
                instant(at),
                escape(&when(at, view.now, tz))
            );
        }
        o.push_str("</div>\n");
    } else if let Some(guest) = &view.guest {
        w!(
            o,
            "<form method=\"post\" action=\"{WAKE_PATH}\">\n<input type=\"hidden\" name=\"next\" value=\"{back}\">\n\
             <p>You are invited as <strong>{}</strong>.</p>\n\
             <button type=\"submit\">Wake for {}</button>\n</form>\n",
            escape(guest),
            wake_length(wake_for)
        );
    }
    if needs_invite {
        o.push_str(
            "<p class=\"invite\">Waking staging needs an invite: ask your team for a personal link \
             <span class=\"nowrap\">(<code>stagingctl invite NAME</code>).</span></p>\n",
        );
    }
}

fn waking(o: &mut String, view: &View, tz: Tz) {
    match view.eta_seconds {
        Some(eta) if eta > 0 => w!(
            o,
            "<p class=\"eta\" data-eta-seconds=\"{eta}\">Ready in about <strong>{}</strong>.</p>\n",
            seconds_or_minutes(eta)
        ),
        Some(eta) => w!(o, "<p class=\"eta\" data-eta-seconds=\"{eta}\">Ready any moment now.</p>\n"),
        None => o.push_str("<p class=\"eta\">Ready soon.</p>\n"),
    }
    if let Some(by) = &view.woken_by {
        w!(o, "<p class=\"by\">Woken by <strong>{}</strong>.</p>\n", escape(by));
    }
    steps(o, &view.steps, tz);
}

fn ready(o: &mut String, view: &View, tz: Tz, back: &str) {
    w!(
        o,
        "<p class=\"lead\">Taking you back…</p>\n<p class=\"continue\"><a href=\"{back}\">Continue to {back}</a></p>\n"
    );
    if let Some(by) = &view.woken_by {
        w!(o, "<p class=\"by\">Woken by <strong>{}</strong>.</p>\n", escape(by));
    }
    steps(o, &view.steps, tz);
}

/// The wake's steps in order: done ones with their local time, the rest pending.
fn steps(o: &mut String, steps: &[Step], tz: Tz) {
    if steps.is_empty() {
        return;
    }
    o.push_str("<ol class=\"steps\" aria-label=\"The wake, step by step\">\n");
    let next = steps.iter().position(|s| s.at.is_none());
    for (i, step) in steps.iter().enumerate() {
        match step.at {
            Some(at) => w!(
                o,
                "<li class=\"done\"><span class=\"name\">{}</span> <time datetime=\"{}\">{}</time></li>\n",
                escape(step.name),
                instant(at),
                at.with_timezone(&tz).format("%H:%M:%S")
            ),
            None => w!(
                o,
                "<li class=\"pending{}\"><span class=\"name\">{}</span> <span class=\"status\">pending</span></li>\n",
                if next == Some(i) { " next" } else { "" },
                escape(step.name)
            ),
        }
    }
    o.push_str("</ol>\n");
}

/// An instant as the JSON and `datetime` attributes give it: RFC 3339 in UTC, with a `Z`.
fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `at` in `tz`: `HH:MM` on the local day of `now`, with the day named otherwise.
fn when(at: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    if local.date_naive() == now.with_timezone(&tz).date_naive() {
        local.format("%H:%M").to_string()
    } else {
        local.format("%a %-d %b %H:%M").to_string()
    }
}

/// `45 s` under two minutes, `12 min` (rounded) from there.
fn seconds_or_minutes(secs: i64) -> String {
    let secs = secs.max(0);
    if secs < 120 { format!("{secs} s") } else { format!("{} min", (secs + 30) / 60) }
}

/// A wake's length on its button: `1 h`, `1 h 30 min`, `45 min`, `90 s`.
fn wake_length(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (h, 0, 0) => format!("{h} h"),
        (h, m, 0) => format!("{h} h {m} min"),
        _ => format!("{secs} s"),
    }
}

const CSS: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; background: #f6f7f9; color: #1d2330;
  font: 16px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", "DejaVu Sans", sans-serif;
  font-variant-numeric: tabular-nums; }
main { max-width: 34rem; margin: 0 auto; padding: 40px 20px 32px; }
h1 { font-size: 1.7rem; line-height: 1.2; font-weight: 650; margin: 10px 0 12px; letter-spacing: -0.01em; overflow-wrap: anywhere; }
h2 { font-size: 1.05rem; font-weight: 650; margin: 0 0 6px; }
p { margin: 0 0 12px; }
.lead { color: #4b5563; }
.badge { display: inline-flex; align-items: center; gap: 8px; margin: 0; padding: 3px 12px 3px 10px; border-radius: 999px;
  font-size: 0.8rem; font-weight: 600; letter-spacing: 0.05em; text-transform: uppercase; }
.badge .dot { width: 9px; height: 9px; border-radius: 50%; background: currentColor; }
.badge.asleep { background: #e6e9f2; color: #3b4a6b; }
.badge.waking { background: #fdf0d5; color: #8a5300; }
.badge.ready { background: #dcf3e5; color: #1f7a45; }
.eta { font-size: 1.1rem; }
.warning { background: #fff4e0; border: 1px solid #f0c36d; border-left-width: 5px; border-radius: 6px; padding: 10px 14px; color: #6b4200; }
.refusal { background: #fff; border: 1px solid #e8c4c2; border-left: 5px solid #c8413c; border-radius: 6px; padding: 12px 16px 2px; margin: 16px 0; overflow-wrap: anywhere; }
.refusal h2 { color: #a8332f; }
form { background: #fff; border: 1px solid #e3e6eb; border-radius: 8px; padding: 16px; margin: 16px 0; overflow-wrap: anywhere; }
button { display: block; width: 100%; font: inherit; font-weight: 600; font-size: 1.05rem; color: #fff; background: #3569c9;
  border: 0; border-radius: 8px; padding: 12px 16px; cursor: pointer; }
button:hover { background: #2b58ad; }
button:focus-visible, a:focus-visible { outline: 3px solid #f0b43c; outline-offset: 2px; }
.invite { background: #fff; border: 1px dashed #c3c9d4; border-radius: 8px; padding: 12px 16px; color: #374151; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.9em;
  background: #eef0f4; border-radius: 4px; padding: 1px 5px; white-space: nowrap; }
.by { color: #4b5563; overflow-wrap: anywhere; }
.continue a { font-size: 1.1rem; font-weight: 600; color: #2b58ad; overflow-wrap: anywhere; }
.steps { list-style: none; counter-reset: step; margin: 18px 0; padding: 6px 16px; background: #fff; border: 1px solid #e3e6eb; border-radius: 8px; }
.steps li { counter-increment: step; display: flex; align-items: baseline; gap: 10px; padding: 8px 0; }
.steps li + li { border-top: 1px solid #f0f2f5; }
.steps li::before { content: counter(step); flex: none; width: 1.5rem; height: 1.5rem; line-height: 1.5rem; align-self: center; text-align: center;
  border-radius: 50%; font-size: 0.8rem; font-weight: 600; background: #eef0f4; color: #6b7280; }
.steps li.done::before { content: "✓"; background: #1f9d55; color: #fff; }
.steps li.next::before { background: #f0b43c; color: #fff; }
.steps .name { flex: 1; }
.steps time { color: #374151; }
.steps .status { color: #8d949e; font-style: italic; }
.steps li.next .status { color: #8a5300; }
.nowrap { white-space: nowrap; }
footer p { color: #6b7280; font-size: 0.85rem; margin-top: 24px; }
"#;

#[cfg(test)]
mod tests;
