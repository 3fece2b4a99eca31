//! Finding the Iggy server on this machine: its process (if running), its config file and its
//! data directory. Options given on the command line win over what is discovered.

use std::path::PathBuf;

/// A running `iggy-server` process.
#[derive(Debug, Clone, Default)]
pub struct IggyProcess {
    pub pid: u32,
    /// argv, as read from `/proc/<pid>/cmdline`. May hold secrets: redaction runs on output.
    pub cmdline: Vec<String>,
    /// The environment from `/proc/<pid>/environ` (empty when not readable).
    pub environ: Vec<(String, String)>,
    pub exe: Option<PathBuf>,
    pub cwd: Option<PathBuf>,
    /// Seconds since the process started.
    pub uptime_secs: Option<u64>,
}

/// The Iggy server this collection is about.
#[derive(Debug, Clone, Default)]
pub struct IggyTarget {
    pub process: Option<IggyProcess>,
    /// The config file used: `--iggy-config`, else `IGGY_CONFIG_PATH` of the process, else a
    /// well-known location that exists.
    pub config_path: Option<PathBuf>,
    /// The config file's text (unredacted; redaction runs on everything that is written).
    pub config_text: Option<String>,
    /// The parsed config, or the parse error as text.
    pub config: Option<Result<toml::Value, String>>,
    /// The data directory: `--iggy-data`, else `IGGY_SYSTEM_PATH`, else `system.path` of the
    /// config (relative to the process's working directory), when it exists.
    pub data_dir: Option<PathBuf>,
}

/// What the user told us, overriding discovery.
#[derive(Debug, Clone, Default)]
pub struct IggyHints {
    pub config_path: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
}

impl IggyProcess {
    /// One variable of the process's environment.
    pub fn env(&self, key: &str) -> Option<&str> {
        self.environ
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl IggyTarget {
    /// The parsed config, when there is one and it parsed.
    pub fn config_value(&self) -> Option<&toml::Value> {
        match &self.config {
            Some(Ok(v)) => Some(v),
            _ => None,
        }
    }

    /// Resolves a path named in the config: relative paths are relative to the server's
    /// working directory (that is how the server opens them), else to the config's directory.
    pub fn resolve_path(&self, named: &str) -> PathBuf {
        let path = PathBuf::from(named);
        if path.is_absolute() {
            return path;
        }
        if let Some(cwd) = self.process.as_ref().and_then(|proc_| proc_.cwd.as_ref()) {
            return cwd.join(path);
        }
        if let Some(dir) = self.config_path.as_ref().and_then(|c| c.parent()) {
            return dir.join(path);
        }
        path
    }
}

/// Looks up a dotted key (`http.jwt.encoding_secret`) in a TOML document.
pub fn lookup<'a>(v: &'a toml::Value, dotted: &str) -> Option<&'a toml::Value> {
    let mut cur = v;
    for part in dotted.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

/// A string at a dotted key.
pub fn lookup_str<'a>(v: &'a toml::Value, dotted: &str) -> Option<&'a str> {
    lookup(v, dotted)?.as_str()
}

/// A boolean at a dotted key.
pub fn lookup_bool(v: &toml::Value, dotted: &str) -> Option<bool> {
    lookup(v, dotted)?.as_bool()
}

/// Finds the Iggy server on this machine. Hints (command-line options) win over discovery;
/// nothing here fails: what cannot be found stays `None`.
pub fn discover(hints: &IggyHints) -> IggyTarget {
    let process = find_process();
    let config_path = resolve_config_path(hints, process.as_ref());
    let mut config_text = None;
    let mut config = None;
    if let Some(path) = &config_path {
        match crate::sys::read(path) {
            Ok(text) => {
                config = Some(parse_config(&text));
                config_text = Some(text);
            }
            Err(e) => config = Some(Err(format!("cannot read {}: {e}", path.display()))),
        }
    }
    let parsed = match &config {
        Some(Ok(v)) => Some(v),
        _ => None,
    };
    let data_dir = resolve_data_dir(hints, process.as_ref(), parsed);
    IggyTarget {
        process,
        config_path,
        config_text,
        config,
        data_dir,
    }
}

/// Parses a whole TOML document.
pub fn parse_config(text: &str) -> Result<toml::Value, String> {
    match toml::from_str::<toml::Table>(text) {
        Ok(t) => Ok(toml::Value::Table(t)),
        Err(e) => Err(e.to_string()),
    }
}

fn resolve_config_path(hints: &IggyHints, process: Option<&IggyProcess>) -> Option<PathBuf> {
    if let Some(p) = &hints.config_path {
        return Some(p.clone());
    }
    let cwd = process.and_then(|p| p.cwd.clone());
    if let Some(proc_) = process {
        if let Some(env) = proc_.env("IGGY_CONFIG_PATH").filter(|s| !s.is_empty()) {
            return Some(join_relative(cwd.as_deref(), env));
        }
        if let Some(arg) = config_arg(&proc_.cmdline) {
            return Some(join_relative(cwd.as_deref(), &arg));
        }
    }
    let mut candidates = Vec::new();
    if let Some(cwd) = &cwd {
        candidates.push(cwd.join("configs/server.toml"));
        candidates.push(cwd.join("config.toml"));
    }
    candidates.push(PathBuf::from("/etc/iggy/server.toml"));
    // The server writes the config it actually runs with into the data directory; when only
    // the data directory is known, that is the best config there is.
    if let Some(d) = &hints.data_dir {
        candidates.push(d.join("runtime/current_config.toml"));
    }
    candidates.into_iter().find(|p| p.is_file())
}

fn resolve_data_dir(
    hints: &IggyHints,
    process: Option<&IggyProcess>,
    config: Option<&toml::Value>,
) -> Option<PathBuf> {
    let existing = |p: PathBuf| if p.is_dir() { Some(p) } else { None };
    if let Some(d) = &hints.data_dir {
        if !d.is_dir() {
            tracing::debug!("the Iggy data directory {} does not exist", d.display());
        }
        return existing(d.clone());
    }
    let cwd = process
        .and_then(|p| p.cwd.clone())
        .or_else(|| std::env::current_dir().ok());
    let env_path = process
        .and_then(|p| p.env("IGGY_SYSTEM_PATH"))
        .filter(|s| !s.is_empty());
    if let Some(env) = env_path {
        return existing(join_relative(cwd.as_deref(), env));
    }
    if let Some(path) = config.and_then(|c| lookup_str(c, "system.path")) {
        return existing(join_relative(cwd.as_deref(), path));
    }
    // No config: a running server uses its default, `local_data` in its working directory.
    if let Some(proc_cwd) = process.and_then(|p| p.cwd.as_ref()) {
        return existing(proc_cwd.join("local_data"));
    }
    None
}

fn join_relative(base: Option<&std::path::Path>, p: &str) -> PathBuf {
    let path = PathBuf::from(p);
    match base {
        Some(b) if path.is_relative() => b.join(path),
        _ => path,
    }
}

/// The value of a `--config PATH`, `--config=PATH`, `-c PATH` or `--config-path PATH` argument.
pub fn config_arg(cmdline: &[String]) -> Option<String> {
    let names = ["--config", "-c", "--config-path", "--config-file"];
    let mut it = cmdline.iter().skip(1);
    while let Some(arg) = it.next() {
        if names.contains(&arg.as_str()) {
            return it.next().cloned();
        }
        for n in names {
            if let Some(v) = arg.strip_prefix(n).and_then(|r| r.strip_prefix('=')) {
                return Some(v.to_owned());
            }
        }
    }
    None
}

/// Splits `/proc/<pid>/cmdline` (NUL-separated, NUL-terminated).
pub fn parse_cmdline(raw: &[u8]) -> Vec<String> {
    raw.split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// Splits `/proc/<pid>/environ` into `(name, value)` pairs.
pub fn parse_environ(raw: &[u8]) -> Vec<(String, String)> {
    parse_cmdline(raw)
        .into_iter()
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

/// Field 22 (`starttime`, clock ticks after boot) of `/proc/<pid>/stat`. The command name
/// (field 2) may hold spaces and parentheses, so fields are counted after the last `)`.
pub fn parse_stat_starttime(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After ")" come fields 3, 4, ...: field 22 is the 20th of them.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The first number of `/proc/uptime`, in whole seconds.
pub fn parse_uptime(text: &str) -> Option<u64> {
    let first = text.split_whitespace().next()?;
    let secs: f64 = first.parse().ok()?;
    Some(secs as u64)
}

/// The kernel's clock tick rate for `/proc/<pid>/stat` times. It is 100 on every Linux
/// architecture Iggy runs on; reading it properly needs `sysconf`, which needs `unsafe`.
#[cfg(target_os = "linux")]
const CLK_TCK: u64 = 100;

#[cfg(target_os = "linux")]
fn find_process() -> Option<IggyProcess> {
    let own = std::process::id();
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .filter(|pid| *pid != own)
        .collect();
    // The lowest pid is the longest-running server when several are found.
    pids.sort_unstable();
    pids.into_iter()
        .find(|pid| is_iggy_server(*pid))
        .map(read_process)
}

#[cfg(not(target_os = "linux"))]
fn find_process() -> Option<IggyProcess> {
    None
}

#[cfg(target_os = "linux")]
fn is_iggy_server(pid: u32) -> bool {
    if crate::sys::read_trim(format!("/proc/{pid}/comm")).as_deref() == Some("iggy-server") {
        return true;
    }
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .is_ok_and(|exe| exe_is_iggy(&exe.to_string_lossy()))
}

/// Whether an executable path names `iggy-server` (also after an upgrade replaced the binary
/// under a running process, when the kernel appends " (deleted)").
pub fn exe_is_iggy(exe: &str) -> bool {
    let exe = exe.strip_suffix(" (deleted)").unwrap_or(exe);
    exe.rsplit('/').next() == Some("iggy-server")
}

#[cfg(target_os = "linux")]
fn read_process(pid: u32) -> IggyProcess {
    let base = format!("/proc/{pid}");
    let cmdline = std::fs::read(format!("{base}/cmdline")).map(|b| parse_cmdline(&b));
    // environ needs the same user or root; unreadable simply means "unknown".
    let environ = std::fs::read(format!("{base}/environ")).map(|b| parse_environ(&b));
    let exe = std::fs::read_link(format!("{base}/exe")).ok();
    let cwd = std::fs::read_link(format!("{base}/cwd")).ok();
    let stat = crate::sys::read(format!("{base}/stat")).ok();
    let start = stat.and_then(|s| parse_stat_starttime(&s));
    let up = crate::sys::read("/proc/uptime")
        .ok()
        .and_then(|s| parse_uptime(&s));
    let uptime_secs = match (start, up) {
        (Some(start), Some(up)) => Some(up.saturating_sub(start / CLK_TCK)),
        _ => None,
    };
    IggyProcess {
        pid,
        cmdline: cmdline.unwrap_or_default(),
        environ: environ.unwrap_or_default(),
        exe,
        cwd,
        uptime_secs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
[system]
path = "local_data"

[system.encryption]
enabled = false

[tcp]
enabled = true
address = "127.0.0.1:8090"

[tcp.tls]
enabled = false
cert_file = "core/certs/iggy_cert.pem"
"#;

    #[test]
    fn parses_config_and_looks_up_keys() {
        let v = parse_config(CONFIG).unwrap();
        assert_eq!(lookup_str(&v, "system.path"), Some("local_data"));
        assert_eq!(lookup_str(&v, "tcp.address"), Some("127.0.0.1:8090"));
        assert_eq!(lookup_bool(&v, "tcp.tls.enabled"), Some(false));
        assert!(lookup(&v, "http.jwt").is_none());
        let e = parse_config("[tcp\nenabled = ").unwrap_err();
        assert!(e.contains("TOML parse error at line 1"), "{e}");
    }

    #[test]
    fn hints_win_for_config_and_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("server.toml");
        std::fs::write(&cfg, CONFIG).unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let hints = IggyHints {
            config_path: Some(cfg.clone()),
            data_dir: Some(data.clone()),
        };
        let t = discover(&hints);
        assert_eq!(t.config_path.as_deref(), Some(cfg.as_path()));
        assert!(t.config_value().is_some());
        assert_eq!(t.config_text.as_deref(), Some(CONFIG));
        assert_eq!(t.data_dir.as_deref(), Some(data.as_path()));
    }

    #[test]
    fn missing_data_dir_hint_is_dropped_and_bad_config_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("server.toml");
        std::fs::write(&cfg, "not = = toml").unwrap();
        let hints = IggyHints {
            config_path: Some(cfg),
            data_dir: Some(dir.path().join("does-not-exist")),
        };
        let t = discover(&hints);
        let e = t.config.unwrap().unwrap_err();
        assert!(e.contains("TOML parse error at line 1"), "{e}");
        assert!(t.data_dir.is_none());
    }

    #[test]
    fn data_dir_from_config_relative_to_process_cwd() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("local_data")).unwrap();
        let process = IggyProcess {
            cwd: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        let cfg = parse_config(CONFIG).unwrap();
        let d = resolve_data_dir(&IggyHints::default(), Some(&process), Some(&cfg));
        assert_eq!(d, Some(dir.path().join("local_data")));
        let env_process = IggyProcess {
            cwd: Some(dir.path().to_path_buf()),
            environ: vec![("IGGY_SYSTEM_PATH".into(), dir.path().display().to_string())],
            ..Default::default()
        };
        let d = resolve_data_dir(&IggyHints::default(), Some(&env_process), Some(&cfg));
        assert_eq!(d, Some(dir.path().to_path_buf()));
    }

    #[test]
    fn config_from_process_env_is_joined_to_cwd() {
        let process = IggyProcess {
            cwd: Some(PathBuf::from("/opt/iggy")),
            environ: vec![("IGGY_CONFIG_PATH".into(), "configs/prod.toml".into())],
            ..Default::default()
        };
        let p = resolve_config_path(&IggyHints::default(), Some(&process));
        assert_eq!(p, Some(PathBuf::from("/opt/iggy/configs/prod.toml")));
    }

    #[test]
    fn proc_parsers() {
        assert_eq!(
            parse_cmdline(b"iggy-server\0--with-default-root-credentials\0"),
            vec![
                "iggy-server".to_string(),
                "--with-default-root-credentials".to_string()
            ]
        );
        let env = parse_environ(b"A=1\0IGGY_CONFIG_PATH=/etc/iggy/x.toml\0B=x=y\0");
        assert_eq!(
            env[1],
            ("IGGY_CONFIG_PATH".into(), "/etc/iggy/x.toml".into())
        );
        assert_eq!(env[2], ("B".into(), "x=y".into()));
        let stat = "1234 (iggy (srv) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 \
                    8 0 98765 123456789 1000 18446744073709551615";
        assert_eq!(parse_stat_starttime(stat), Some(98765));
        assert_eq!(parse_uptime("35000.42 12345.00\n"), Some(35000));
        let args: Vec<String> = ["iggy-server", "--config", "/a.toml"]
            .map(String::from)
            .into();
        assert_eq!(config_arg(&args), Some("/a.toml".into()));
        let args: Vec<String> = ["iggy-server", "--config=/b.toml"].map(String::from).into();
        assert_eq!(config_arg(&args), Some("/b.toml".into()));
        assert!(exe_is_iggy("/usr/local/bin/iggy-server"));
        assert!(exe_is_iggy("/usr/local/bin/iggy-server (deleted)"));
        assert!(!exe_is_iggy("/usr/bin/iggy"));
    }
}
