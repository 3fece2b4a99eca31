//! The Iggy server config: does it parse, which listeners it opens and how, default root
//! credentials, JWT secrets and encryption at rest. Secret values never go into a fact: only
//! whether they are set.

use snapdesk_report::Status;

use super::{CheckDef, Ctx, Outcome};
use crate::iggy::{self, IggyTarget};

pub fn checks() -> Vec<CheckDef> {
    vec![
        CheckDef {
            id: "iggy.config_parse",
            category: "iggy",
            title: "Iggy config file parses",
            run: config_parse,
        },
        CheckDef {
            id: "iggy.config_listeners",
            category: "iggy",
            title: "Configured listeners and TLS",
            run: config_listeners,
        },
        CheckDef {
            id: "iggy.config_root_credentials",
            category: "iggy",
            title: "Default root credentials",
            run: config_root_credentials,
        },
        CheckDef {
            id: "iggy.config_jwt_secret",
            category: "iggy",
            title: "JWT secrets set",
            run: config_jwt_secret,
        },
        CheckDef {
            id: "iggy.config_encryption",
            category: "iggy",
            title: "Encryption at rest",
            run: config_encryption,
        },
    ]
}

const NO_CONFIG: &str = "no Iggy config found; pass --iggy-config";

/// Whether the config file is the server's runtime dump (`runtime/current_config.toml`),
/// which may leave secrets out.
fn is_runtime_copy(t: &IggyTarget) -> bool {
    t.config_path
        .as_ref()
        .is_some_and(|p| p.ends_with("runtime/current_config.toml"))
}

/// An environment variable of the running server, when set and not empty.
fn proc_env<'a>(t: &'a IggyTarget, key: &str) -> Option<&'a str> {
    t.process
        .as_ref()
        .and_then(|p| p.env(key))
        .filter(|v| !v.is_empty())
}

fn config_parse(ctx: &Ctx) -> Outcome {
    let Some(path) = &ctx.iggy.config_path else {
        return Outcome::skipped(NO_CONFIG);
    };
    match &ctx.iggy.config {
        None => Outcome::skipped(NO_CONFIG),
        Some(Err(e)) => Outcome::fail(format!("{} does not parse: {e}", path.display()))
            .fact("path", path.display())
            .fact("error", e)
            .remediation("Fix the TOML syntax; the server refuses to start with this file."),
        Some(Ok(v)) => {
            let sections: Vec<String> = match v.as_table() {
                Some(t) => t.keys().cloned().collect(),
                None => Vec::new(),
            };
            let size = ctx.iggy.config_text.as_ref().map(|t| t.len()).unwrap_or(0);
            let mut o = Outcome::pass(format!("{} parses", path.display()))
                .fact("path", path.display())
                .fact("bytes", size)
                .fact("sections", sections.join(", "));
            if is_runtime_copy(&ctx.iggy) {
                o = o.fact(
                    "note",
                    "this is the server's runtime copy of its effective config, not the file \
                     it was started with",
                );
            }
            o
        }
    }
}

/// The host part of a listener address (`0.0.0.0:8090`, `[::]:8090`, `:8090`).
pub fn address_host(addr: &str) -> &str {
    let a = addr.trim();
    if let Some(rest) = a.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    match a.rsplit_once(':') {
        Some((h, _)) => h,
        None => a,
    }
}

/// Whether a listener address accepts connections on every interface.
pub fn binds_all_interfaces(addr: &str) -> bool {
    matches!(address_host(addr), "" | "0.0.0.0" | "::" | "*")
}

/// One listener as configured (after the server's environment overrides).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub name: &'static str,
    pub enabled: bool,
    pub address: String,
    pub tls: bool,
    /// Where the address came from: `config` or the environment variable.
    pub origin: String,
}

pub fn listeners(t: &IggyTarget, cfg: &toml::Value) -> Vec<Listener> {
    let mut out = Vec::new();
    for name in ["tcp", "quic", "http", "websocket"] {
        let upper = name.to_ascii_uppercase();
        let env_enabled = proc_env(t, &format!("IGGY_{upper}_ENABLED"));
        let env_address = proc_env(t, &format!("IGGY_{upper}_ADDRESS"));
        let enabled = match env_enabled {
            Some(v) => v.eq_ignore_ascii_case("true"),
            None => iggy::lookup_bool(cfg, &format!("{name}.enabled")).unwrap_or(true),
        };
        let (address, origin) = match env_address {
            Some(a) => (a.to_owned(), format!("IGGY_{upper}_ADDRESS")),
            None => (
                iggy::lookup_str(cfg, &format!("{name}.address"))
                    .unwrap_or("")
                    .to_owned(),
                "config".to_owned(),
            ),
        };
        // QUIC is always encrypted (TLS 1.3 is part of the protocol).
        let tls = name == "quic"
            || iggy::lookup_bool(cfg, &format!("{name}.tls.enabled")).unwrap_or(false);
        out.push(Listener {
            name,
            enabled,
            address,
            tls,
            origin,
        });
    }
    out
}

fn config_listeners(ctx: &Ctx) -> Outcome {
    let Some(cfg) = ctx.iggy.config_value() else {
        return Outcome::skipped(NO_CONFIG);
    };
    let ls = listeners(&ctx.iggy, cfg);
    let mut exposed: Vec<String> = Vec::new();
    let mut enabled: Vec<String> = Vec::new();
    let mut o_facts: Vec<(String, String)> = Vec::new();
    for l in &ls {
        let desc = if l.enabled {
            enabled.push(l.name.to_owned());
            let tls = if l.tls { "tls" } else { "plaintext" };
            format!("enabled, {} ({tls}, from {})", l.address, l.origin)
        } else {
            "disabled".to_owned()
        };
        if l.enabled && !l.tls && binds_all_interfaces(&l.address) {
            exposed.push(format!("{} on {}", l.name, l.address));
        }
        o_facts.push((l.name.to_owned(), desc));
    }
    let rule = "warn when a listener binds all interfaces (0.0.0.0 / ::) without TLS";
    let mut o = if !exposed.is_empty() {
        Outcome::warn(format!(
            "plaintext listeners on all interfaces: {}",
            exposed.join(", ")
        ))
        .remediation(
            "Enable TLS for these listeners ([tcp.tls], [http.tls], [websocket.tls]) or \
                 bind them to a private address; credentials and messages travel in clear.",
        )
    } else if enabled.is_empty() {
        Outcome::warn("no listener is enabled")
    } else {
        Outcome::pass(format!("enabled: {}", enabled.join(", ")))
    };
    for (k, v) in o_facts {
        o = o.fact(k, v);
    }
    o.fact("rule", rule)
}

fn config_root_credentials(ctx: &Ctx) -> Outcome {
    let t = &ctx.iggy;
    let Some(p) = &t.process else {
        if t.config_value().is_some() {
            return Outcome::info(
                "iggy-server is not running: its command line and environment cannot be checked",
            );
        }
        return Outcome::skipped("no iggy-server process and no config");
    };
    let flag = p
        .cmdline
        .iter()
        .any(|a| a == "--with-default-root-credentials");
    let user = p.env("IGGY_ROOT_USERNAME");
    let pass = p.env("IGGY_ROOT_PASSWORD");
    let env_default = user == Some("iggy") && pass == Some("iggy");
    let rule = "fail when started with --with-default-root-credentials or root user/password \
                iggy/iggy from the environment";
    let mut o = if flag {
        Outcome::fail("the server was started with --with-default-root-credentials (iggy/iggy)")
    } else if env_default {
        Outcome::fail("IGGY_ROOT_USERNAME / IGGY_ROOT_PASSWORD set the default iggy/iggy")
    } else {
        Outcome::pass("no default root credentials in the command line or environment")
    };
    if o.status == Status::Fail {
        o = o.remediation(
            "Change the root password now (iggy CLI: `user password root`), and start the \
             server with IGGY_ROOT_USERNAME/IGGY_ROOT_PASSWORD from a secret store instead.",
        );
    }
    let env_state = if p.environ.is_empty() {
        "not readable".to_owned()
    } else {
        let state = |v: Option<&str>| match v {
            Some(s) if !s.is_empty() => "set",
            Some(_) => "empty",
            None => "absent",
        };
        format!(
            "IGGY_ROOT_USERNAME {}, IGGY_ROOT_PASSWORD {}",
            state(user),
            state(pass)
        )
    };
    o.fact("default_credentials_flag", flag)
        .fact("environment", env_state)
        .fact("rule", rule)
}

/// The state of a secret: from the environment, set, empty or absent. Never its value.
fn secret_state(t: &IggyTarget, cfg: &toml::Value, key: &str, env: &str) -> &'static str {
    if proc_env(t, env).is_some() {
        return "set (environment)";
    }
    match iggy::lookup_str(cfg, key) {
        Some(v) if !v.is_empty() => "set",
        Some(_) => "empty",
        None => "absent",
    }
}

fn config_jwt_secret(ctx: &Ctx) -> Outcome {
    let Some(cfg) = ctx.iggy.config_value() else {
        return Outcome::skipped(NO_CONFIG);
    };
    let http_enabled = iggy::lookup_bool(cfg, "http.enabled").unwrap_or(true);
    let enc = secret_state(
        &ctx.iggy,
        cfg,
        "http.jwt.encoding_secret",
        "IGGY_HTTP_JWT_ENCODING_SECRET",
    );
    let dec = secret_state(
        &ctx.iggy,
        cfg,
        "http.jwt.decoding_secret",
        "IGGY_HTTP_JWT_DECODING_SECRET",
    );
    let rule = "fail when the HTTP listener is enabled and a JWT secret is empty";
    let base = |o: Outcome| {
        o.fact("http_enabled", http_enabled)
            .fact("encoding_secret", enc)
            .fact("decoding_secret", dec)
            .fact("rule", rule)
    };
    if !http_enabled {
        return base(Outcome::pass("HTTP listener disabled: JWT secrets unused"));
    }
    let empty = enc == "empty" || dec == "empty";
    if empty && is_runtime_copy(&ctx.iggy) {
        return base(Outcome::warn(
            "empty JWT secret in the runtime config copy (which may blank secrets): check the \
             server's own config file",
        ));
    }
    if empty {
        return base(Outcome::fail("empty JWT secret")).remediation(
            "Set http.jwt.encoding_secret and decoding_secret (or IGGY_HTTP_JWT_ENCODING_SECRET \
             / IGGY_HTTP_JWT_DECODING_SECRET) to a long random value and restart.",
        );
    }
    if enc == "absent" && dec == "absent" {
        return base(Outcome::info(
            "JWT secrets not in this config file: the server uses its default or the environment",
        ));
    }
    base(Outcome::pass("JWT secrets are set"))
}

fn config_encryption(ctx: &Ctx) -> Outcome {
    let Some(cfg) = ctx.iggy.config_value() else {
        return Outcome::skipped(NO_CONFIG);
    };
    let enabled_env = proc_env(&ctx.iggy, "IGGY_SYSTEM_ENCRYPTION_ENABLED");
    let enabled = match enabled_env {
        Some(v) => v.eq_ignore_ascii_case("true"),
        None => iggy::lookup_bool(cfg, "system.encryption.enabled").unwrap_or(false),
    };
    let key = secret_state(
        &ctx.iggy,
        cfg,
        "system.encryption.key",
        "IGGY_SYSTEM_ENCRYPTION_KEY",
    );
    let rule = "info; fail when encryption is enabled with an empty key";
    let o = if !enabled {
        Outcome::info("encryption at rest is disabled")
    } else if key == "empty" || key == "absent" {
        if is_runtime_copy(&ctx.iggy) {
            Outcome::warn(
                "encryption enabled, key not in the runtime config copy (which may omit \
                 secrets): check the server's own config",
            )
        } else {
            Outcome::fail("encryption enabled with an empty key").remediation(
                "Set system.encryption.key (or IGGY_SYSTEM_ENCRYPTION_KEY) to a base64 \
                 32-byte key and keep it safe: data written with it cannot be read without it.",
            )
        }
    } else {
        Outcome::info("encryption at rest is enabled")
    };
    o.fact("enabled", enabled)
        .fact("key", key)
        .fact("rule", rule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iggy::{parse_config, IggyProcess};

    fn target(config: &str, process: Option<IggyProcess>) -> IggyTarget {
        IggyTarget {
            config: Some(parse_config(config)),
            config_path: Some("/etc/iggy/server.toml".into()),
            process,
            ..Default::default()
        }
    }

    fn ctx(t: IggyTarget) -> Ctx {
        Ctx {
            iggy: t,
            extra_certs: Vec::new(),
            started: std::time::Instant::now(),
            host_name: "h".into(),
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(address_host("0.0.0.0:8090"), "0.0.0.0");
        assert_eq!(address_host("[::]:8090"), "::");
        assert_eq!(address_host("127.0.0.1:3000"), "127.0.0.1");
        assert!(binds_all_interfaces("0.0.0.0:8090"));
        assert!(binds_all_interfaces("[::]:8090"));
        assert!(binds_all_interfaces(":8090"));
        assert!(!binds_all_interfaces("10.0.0.5:8090"));
    }

    #[test]
    fn exposed_plaintext_listener_warns() {
        let c = ctx(target(
            "[tcp]\nenabled = true\naddress = \"0.0.0.0:8090\"\n[tcp.tls]\nenabled = false\n\
             [http]\nenabled = false\n[quic]\nenabled = true\naddress = \"0.0.0.0:8080\"\n\
             [websocket]\nenabled = false\n",
            None,
        ));
        let o = config_listeners(&c);
        assert_eq!(o.status, Status::Warn);
        assert!(o.summary.contains("tcp"));
        assert!(!o.summary.contains("quic"));
    }

    #[test]
    fn empty_jwt_secret_fails_and_values_never_leak() {
        let c = ctx(target(
            "[http]\nenabled = true\n[http.jwt]\nencoding_secret = \"\"\n\
             decoding_secret = \"hunter2\"\n",
            None,
        ));
        let o = config_jwt_secret(&c);
        assert_eq!(o.status, Status::Fail);
        assert!(o.facts.iter().all(|f| !f.value.contains("hunter2")));
        assert!(!o.summary.contains("hunter2"));
    }

    #[test]
    fn default_root_credentials_fail() {
        let p = IggyProcess {
            pid: 1,
            cmdline: vec![
                "iggy-server".into(),
                "--with-default-root-credentials".into(),
            ],
            ..Default::default()
        };
        let o = config_root_credentials(&ctx(target("", Some(p))));
        assert_eq!(o.status, Status::Fail);
        let p = IggyProcess {
            pid: 1,
            cmdline: vec!["iggy-server".into()],
            environ: vec![
                ("IGGY_ROOT_USERNAME".into(), "iggy".into()),
                ("IGGY_ROOT_PASSWORD".into(), "iggy".into()),
            ],
            ..Default::default()
        };
        let o = config_root_credentials(&ctx(target("", Some(p))));
        assert_eq!(o.status, Status::Fail);
        let p = IggyProcess {
            pid: 1,
            cmdline: vec!["iggy-server".into()],
            ..Default::default()
        };
        assert_eq!(
            config_root_credentials(&ctx(target("", Some(p)))).status,
            Status::Pass
        );
        let none = IggyTarget::default();
        assert_eq!(config_root_credentials(&ctx(none)).status, Status::Skipped);
    }

    #[test]
    fn encryption_with_empty_key_fails() {
        let c = ctx(target(
            "[system.encryption]\nenabled = true\nkey = \"\"\n",
            None,
        ));
        assert_eq!(config_encryption(&c).status, Status::Fail);
        let c = ctx(target("[system.encryption]\nenabled = false\n", None));
        assert_eq!(config_encryption(&c).status, Status::Info);
    }

    #[test]
    fn parse_error_fails() {
        let t = IggyTarget {
            config_path: Some("/x.toml".into()),
            config: Some(Err("expected `]`".into())),
            ..Default::default()
        };
        assert_eq!(config_parse(&ctx(t)).status, Status::Fail);
        assert_eq!(
            config_parse(&ctx(IggyTarget::default())).status,
            Status::Skipped
        );
    }
}
