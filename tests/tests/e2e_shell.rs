//! The desktop shell, driven through WebDriver under Xvfb: the window, every sidebar section
//! by mouse and by keyboard, both themes, and a screenshot of each.

use std::time::Duration;

use serde_json::json;
use snapdesk_tests::e2e::{self, App};

const SECTIONS: [&str; 4] = ["deployments", "library", "collect", "settings"];
const CTRL: &str = "\u{E009}";
const ARROW_DOWN: &str = "\u{E015}";
const ARROW_UP: &str = "\u{E013}";
const ENTER: &str = "\u{E007}";

/// The app under WebDriver, or `None` after a skip (a failure under `CI=true`).
fn app_or_skip() -> Option<App> {
    if !e2e::enabled() {
        return None;
    }
    Some(App::launch().expect("the app launches under WebDriver"))
}

fn active_section(app: &App) -> String {
    let root = app.by_testid("app-root").expect("app root");
    app.attribute(&root, "data-active-section")
        .expect("attribute")
        .unwrap_or_default()
}

fn wait_section(app: &App, name: &str) {
    app.wait_for(&format!("section {name}"), Duration::from_secs(5), |a| {
        Ok(active_section(a) == name
            && a.find_opt(&format!("[data-testid=section-{name}]"))?
                .is_some())
    })
    .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn window_opens_titled_snapdesk() {
    let Some(app) = app_or_skip() else { return };
    assert_eq!(app.title().unwrap(), "Snapdesk");
    // The status area is always there and honest about having nothing to do.
    let status = app.by_testid("status-area").unwrap();
    assert!(app.text(&status).unwrap().contains("No background jobs"));
}

#[test]
fn every_section_is_reachable_by_mouse_with_a_screenshot() {
    let Some(app) = app_or_skip() else { return };
    for name in SECTIONS {
        app.click_testid(&format!("nav-{name}")).unwrap();
        wait_section(&app, name);
        app.screenshot(&format!("section-{name}-light")).unwrap();
    }
    // The empty states say what is true, not filler.
    app.click_testid("nav-library").unwrap();
    let lib = app.by_testid("section-library").unwrap();
    assert!(app.text(&lib).unwrap().contains("Library is empty"));
    app.click_testid("nav-deployments").unwrap();
    let dep = app.by_testid("section-deployments").unwrap();
    // The connections are listed asynchronously: wait for the answer, then read it.
    app.wait_for("the first-run state", Duration::from_secs(10), |a| {
        Ok(a.text(&dep)?.contains("No connection yet"))
    })
    .unwrap();
}

#[test]
fn every_section_is_reachable_by_keyboard() {
    let Some(app) = app_or_skip() else { return };
    // Ctrl+1..4 jump straight to a section.
    for (i, name) in SECTIONS.iter().enumerate() {
        app.chord(&[CTRL, &(i + 1).to_string()]).unwrap();
        wait_section(&app, name);
    }
    // Arrow keys move along the sidebar, Enter opens.
    app.click_testid("nav-deployments").unwrap();
    wait_section(&app, "deployments");
    for name in &SECTIONS[1..] {
        app.press(ARROW_DOWN).unwrap();
        app.wait_for("focus to move", Duration::from_secs(3), |a| {
            Ok(a.focused_testid()?.as_deref() == Some(&format!("nav-{name}")))
        })
        .unwrap();
        app.press(ENTER).unwrap();
        wait_section(&app, name);
    }
    app.press(ARROW_UP).unwrap();
    app.press(ENTER).unwrap();
    wait_section(&app, "collect");
}

#[test]
fn both_themes_render_with_different_colours() {
    let Some(app) = app_or_skip() else { return };
    let bg = |app: &App| {
        app.exec(
            "return getComputedStyle(document.body).backgroundColor;",
            json!([]),
        )
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
    };
    let mut colours = Vec::new();
    for theme in ["light", "dark"] {
        app.exec(
            "document.documentElement.dataset.theme = arguments[0];",
            json!([theme]),
        )
        .unwrap();
        // Wait for the theme's colour to apply rather than a fixed time.
        let before = colours.last().cloned();
        app.wait_for("the theme's background", Duration::from_secs(5), |a| {
            Ok(Some(bg(a)) != before)
        })
        .unwrap();
        colours.push(bg(&app));
        for name in SECTIONS {
            app.click_testid(&format!("nav-{name}")).unwrap();
            wait_section(&app, name);
            app.screenshot(&format!("theme-{theme}-{name}")).unwrap();
        }
    }
    assert_ne!(
        colours[0], colours[1],
        "light and dark backgrounds must differ"
    );
}

#[test]
fn settings_show_this_app_data_dir() {
    let Some(app) = app_or_skip() else { return };
    app.click_testid("nav-settings").unwrap();
    let dir = app.by_testid("settings-data-dir").unwrap();
    let expected = app.data_dir().join("data").display().to_string();
    app.wait_for("data dir to load", Duration::from_secs(5), |a| {
        Ok(a.text(&dir)?.contains(&expected))
    })
    .unwrap();
    let version = app.by_testid("settings-version").unwrap();
    assert!(app
        .text(&version)
        .unwrap()
        .contains(env!("CARGO_PKG_VERSION")));
}
