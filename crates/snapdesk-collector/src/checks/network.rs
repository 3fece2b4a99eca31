//! Network: Iggy's listeners, host name and localhost resolution, interface errors,
//! TIME_WAIT sockets and TCP retransmissions.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};
use std::time::Duration;

use snapdesk_report::Status;

use super::{rules, CheckDef, Ctx, Outcome};
use crate::iggy;
use crate::sys;

pub fn checks() -> Vec<CheckDef> {
    vec![
        CheckDef {
            id: "network.iggy_listeners",
            category: "network",
            title: "Iggy listening sockets",
            run: iggy_listeners,
        },
        CheckDef {
            id: "network.hostname",
            category: "network",
            title: "Host name resolves",
            run: hostname,
        },
        CheckDef {
            id: "network.localhost",
            category: "network",
            title: "localhost resolves to loopback",
            run: localhost,
        },
        CheckDef {
            id: "network.interface_errors",
            category: "network",
            title: "Network interface errors and drops",
            run: interface_errors,
        },
        CheckDef {
            id: "network.time_wait",
            category: "network",
            title: "Sockets in TIME_WAIT",
            run: time_wait,
        },
        CheckDef {
            id: "network.tcp_retransmits",
            category: "network",
            title: "TCP retransmissions",
            run: tcp_retransmits,
        },
    ]
}

/// The kernel's TCP_LISTEN state in `/proc/net/tcp*`.
const TCP_LISTEN: &str = "0A";
/// TCP_CLOSE: how unconnected (listening) UDP sockets show in `/proc/net/udp*`.
const UDP_UNCONNECTED: &str = "07";

/// Decodes an address of `/proc/net/tcp` (`0100007F`) or `/proc/net/tcp6` (32 hex digits):
/// 32-bit words printed in the host's byte order.
pub fn decode_hex_addr(hex: &str) -> Option<IpAddr> {
    match hex.len() {
        8 => {
            let w = u32::from_str_radix(hex, 16).ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(w.to_ne_bytes())))
        }
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                let w = u32::from_str_radix(hex.get(i * 8..i * 8 + 8)?, 16).ok()?;
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
            }
            Some(IpAddr::V6(Ipv6Addr::from(bytes)))
        }
        _ => None,
    }
}

/// The local `(address, port)` of every socket in the given state in a `/proc/net/{tcp,udp}*`
/// text.
pub fn parse_proc_net(text: &str, state: &str) -> Vec<(IpAddr, u16)> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 || f[3] != state {
            continue;
        }
        let Some((addr, port)) = f[1].split_once(':') else {
            continue;
        };
        let (Some(ip), Ok(port)) = (decode_hex_addr(addr), u16::from_str_radix(port, 16)) else {
            continue;
        };
        out.push((ip, port));
    }
    out
}

fn sockets(files: &[&str], state: &str) -> Vec<(IpAddr, u16)> {
    let mut v = Vec::new();
    for f in files {
        if let Ok(text) = sys::read(f) {
            v.extend(parse_proc_net(&text, state));
        }
    }
    v.sort();
    v.dedup();
    v
}

/// Listening TCP sockets (IPv4 and IPv6) as `(address, port)`, like `ss -ltn` lists them.
pub fn tcp_listeners() -> Vec<(String, u16)> {
    sockets(&["/proc/net/tcp", "/proc/net/tcp6"], TCP_LISTEN)
        .into_iter()
        .map(|(ip, port)| (ip.to_string(), port))
        .collect()
}

/// Unconnected UDP sockets (IPv4 and IPv6) as `(address, port)`.
pub fn udp_sockets() -> Vec<(String, u16)> {
    sockets(&["/proc/net/udp", "/proc/net/udp6"], UDP_UNCONNECTED)
        .into_iter()
        .map(|(ip, port)| (ip.to_string(), port))
        .collect()
}

/// The port of an address such as `127.0.0.1:8090` or `[::]:8090`.
pub fn port_of(address: &str) -> Option<u16> {
    address.rsplit(':').next()?.trim().parse().ok()
}

/// One Iggy listener to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedListener {
    pub name: &'static str,
    pub udp: bool,
    pub port: u16,
}

/// The listeners to look for: from the config when there is one (enabled ones, their
/// configured ports), else Iggy's defaults.
pub fn expected_listeners(config: Option<&toml::Value>) -> Vec<ExpectedListener> {
    let defaults: [(&'static str, bool, u16); 4] = [
        ("tcp", false, 8090),
        ("quic", true, 8080),
        ("http", false, 3000),
        ("websocket", false, 8092),
    ];
    let mut out = Vec::new();
    for (name, udp, port) in defaults {
        let (enabled, port) = match config {
            Some(c) => {
                let enabled = iggy::lookup_bool(c, &format!("{name}.enabled")).unwrap_or(true);
                let addr = iggy::lookup_str(c, &format!("{name}.address"));
                (enabled, addr.and_then(port_of).unwrap_or(port))
            }
            None => (true, port),
        };
        if enabled {
            out.push(ExpectedListener { name, udp, port });
        }
    }
    out
}

fn is_unspecified(addr: &str) -> bool {
    addr.parse::<IpAddr>().is_ok_and(|ip| ip.is_unspecified())
}

fn iggy_listeners(ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let tcp = tcp_listeners();
    let udp = udp_sockets();
    let expected = expected_listeners(ctx.iggy.config_value());
    let mut found_any = false;
    let mut all_interfaces: Vec<String> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    let mut facts: Vec<(String, String)> = Vec::new();
    for e in &expected {
        let socks = if e.udp { &udp } else { &tcp };
        let addrs: Vec<&str> = socks
            .iter()
            .filter(|(_, p)| *p == e.port)
            .map(|(a, _)| a.as_str())
            .collect();
        let proto = if e.udp { "udp" } else { "tcp" };
        if addrs.is_empty() {
            missing.push(format!("{} ({proto}/{})", e.name, e.port));
            facts.push((
                e.name.to_owned(),
                format!("not listening on {proto}/{}", e.port),
            ));
        } else {
            found_any = true;
            if addrs.iter().any(|a| is_unspecified(a)) {
                all_interfaces.push(format!("{} ({proto}/{})", e.name, e.port));
            }
            let bound = format!("{proto} {} port {}", addrs.join(", "), e.port);
            facts.push((e.name.to_owned(), bound));
        }
    }
    let running = ctx.iggy.process.is_some();
    let mut o = if !found_any && running {
        Outcome::warn("iggy-server is running but none of its ports is listening").remediation(
            "Check the server log for bind errors (address in use, permission) and the \
             listeners' `enabled`/`address` settings.",
        )
    } else if !found_any {
        Outcome::info("no Iggy listener found (no server running here?)")
    } else if !all_interfaces.is_empty() {
        Outcome::info(format!(
            "{} reachable from all interfaces",
            all_interfaces.join(", ")
        ))
        .remediation(
            "Bound to 0.0.0.0 or ::: make sure a firewall limits who can connect, and enable \
             TLS on listeners exposed beyond the host.",
        )
    } else {
        Outcome::pass("Iggy listeners are up on specific addresses")
    };
    if found_any && !missing.is_empty() {
        o.summary
            .push_str(&format!("; not listening: {}", missing.join(", ")));
    }
    for (k, v) in facts {
        o = o.fact(k, v);
    }
    o.fact(
        "source",
        "/proc/net/tcp, /proc/net/tcp6, /proc/net/udp, /proc/net/udp6",
    )
}

/// Resolves a host name with the system resolver, giving up after `timeout` (a broken DNS
/// setup can block for a long time).
pub fn resolve(host: &str, timeout: Duration) -> Result<Vec<IpAddr>, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = host.to_owned();
    std::thread::spawn(move || {
        let r = (owned.as_str(), 0u16)
            .to_socket_addrs()
            .map(|it| it.map(|sa| sa.ip()).collect::<Vec<IpAddr>>())
            .map_err(|e| e.to_string());
        let _ = tx.send(r);
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(mut v)) => {
            v.sort();
            v.dedup();
            Ok(v)
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!(
            "resolving {host} took longer than {} s",
            timeout.as_secs()
        )),
    }
}

fn kernel_host_name(ctx: &Ctx) -> String {
    #[cfg(unix)]
    {
        let n = rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned();
        if !n.is_empty() {
            return n;
        }
    }
    ctx.host_name.clone()
}

fn hostname(ctx: &Ctx) -> Outcome {
    let host = kernel_host_name(ctx);
    if host.is_empty() {
        return Outcome::fail("the host name is empty");
    }
    match resolve(&host, Duration::from_secs(5)) {
        Ok(addrs) => hostname_outcome(&host, &addrs, &super::net_host::local_addresses()),
        Err(e) => Outcome::fail(format!("{host} does not resolve: {e}"))
            .fact("host_name", host)
            .fact("rule", rules::HOSTNAME_RULE)
            .remediation(
                "Add the host name to /etc/hosts or DNS: clients and cluster peers that are \
                 given this name cannot connect otherwise.",
            ),
    }
}

/// The host name check from what it resolved to and the interfaces' own addresses.
pub fn hostname_outcome(host: &str, addrs: &[IpAddr], local: &[IpAddr]) -> Outcome {
    let (status, rule) = rules::hostname_resolution(addrs, local);
    let list: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
    let routable: Vec<String> = local
        .iter()
        .filter(|a| rules::is_routable(a))
        .map(|a| a.to_string())
        .collect();
    let mut o = match status {
        Status::Fail => Outcome::fail(format!("{host} resolves to no address")).remediation(
            "Add the host name to /etc/hosts or DNS: clients and cluster peers that are \
             given this name cannot connect otherwise.",
        ),
        Status::Warn => Outcome::warn(format!(
            "{host} resolves only to loopback ({}) while this host has {}",
            list.join(", "),
            routable.join(", ")
        ))
        .remediation(format!(
            "Peers and clients given the name {host} would connect to themselves: map it to \
             the address they should use (for example `{} {host}` in /etc/hosts, instead of \
             127.0.x.1) or publish it in DNS.",
            routable.first().map(String::as_str).unwrap_or("ADDRESS")
        )),
        _ => Outcome::pass(format!("{host} resolves to {}", list.join(", "))),
    };
    o = o
        .fact("host_name", host)
        .fact("addresses", list.join(", "))
        .fact("routable_local_addresses", routable.join(", "))
        .fact("rule", rule)
        .fact(
            "source",
            "getaddrinfo, /proc/net/fib_trie, /proc/net/if_inet6",
        );
    o
}

fn localhost(_ctx: &Ctx) -> Outcome {
    match resolve("localhost", Duration::from_secs(5)) {
        Ok(addrs) if !addrs.is_empty() => {
            let list: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
            if addrs.iter().all(|a| a.is_loopback()) {
                Outcome::pass(format!("localhost resolves to {}", list.join(", ")))
                    .fact("addresses", list.join(", "))
            } else {
                Outcome::fail(format!(
                    "localhost resolves to non-loopback {}",
                    list.join(", ")
                ))
                .fact("addresses", list.join(", "))
                .remediation("Fix /etc/hosts: localhost must map to 127.0.0.1 and ::1 only.")
            }
        }
        Ok(_) => Outcome::fail("localhost resolves to no address"),
        Err(e) => Outcome::fail(format!("localhost does not resolve: {e}"))
            .remediation("Add `127.0.0.1 localhost` and `::1 localhost` to /etc/hosts."),
    }
}

/// Counters of one interface in `/proc/net/dev`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IfaceCounters {
    pub rx_packets: u64,
    pub rx_errs: u64,
    pub rx_drop: u64,
    pub tx_packets: u64,
    pub tx_errs: u64,
    pub tx_drop: u64,
}

impl IfaceCounters {
    pub fn error_percent(&self) -> f64 {
        let packets = self.rx_packets + self.tx_packets;
        if packets == 0 {
            return 0.0;
        }
        let bad = self.rx_errs + self.rx_drop + self.tx_errs + self.tx_drop;
        100.0 * bad as f64 / packets as f64
    }
}

pub fn parse_net_dev(text: &str) -> BTreeMap<String, IfaceCounters> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let n: Vec<u64> = rest
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        if n.len() < 16 {
            continue;
        }
        let c = IfaceCounters {
            rx_packets: n[1],
            rx_errs: n[2],
            rx_drop: n[3],
            tx_packets: n[9],
            tx_errs: n[10],
            tx_drop: n[11],
        };
        out.insert(name.trim().to_owned(), c);
    }
    out
}

fn interface_errors(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let Ok(text) = sys::read("/proc/net/dev") else {
        return Outcome::skipped("cannot read /proc/net/dev");
    };
    let ifaces = parse_net_dev(&text);
    let mut worst = Status::Pass;
    let mut bad: Vec<String> = Vec::new();
    let mut o_facts: Vec<(String, String)> = Vec::new();
    for (name, c) in ifaces.iter().filter(|(n, _)| n.as_str() != "lo") {
        let pct = c.error_percent();
        let (st, _) = rules::interface_error_percent(pct);
        if st != Status::Pass {
            worst = Status::Warn;
            bad.push(format!("{name} {pct:.2}%"));
        }
        o_facts.push((
            name.clone(),
            format!(
                "rx {} pkts ({} errs, {} drop), tx {} pkts ({} errs, {} drop)",
                c.rx_packets, c.rx_errs, c.rx_drop, c.tx_packets, c.tx_errs, c.tx_drop
            ),
        ));
    }
    let rule = rules::INTERFACE_ERRORS_RULE;
    let mut o = if worst == Status::Pass {
        Outcome::pass(format!(
            "{} interface(s) without notable errors",
            o_facts.len()
        ))
    } else {
        Outcome::warn(format!("errors or drops on {}", bad.join(", "))).remediation(
            "Check cabling/NIC and driver (`ethtool -S <if>`), ring buffer sizes (`ethtool -g`) \
             and, on VMs, the host's network load.",
        )
    };
    for (k, v) in o_facts {
        o = o.fact(k, v);
    }
    o.fact("rule", rule).fact("source", "/proc/net/dev")
}

/// The `tw` count of the `TCP:` line of `/proc/net/sockstat`.
pub fn parse_sockstat_tw(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("TCP:"))?;
    let f: Vec<&str> = line.split_whitespace().collect();
    let i = f.iter().position(|x| *x == "tw")?;
    f.get(i + 1)?.parse().ok()
}

fn time_wait(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let Ok(text) = sys::read("/proc/net/sockstat") else {
        return Outcome::skipped("cannot read /proc/net/sockstat");
    };
    let Some(tw) = parse_sockstat_tw(&text) else {
        return Outcome::skipped("/proc/net/sockstat has no TCP tw counter");
    };
    let (status, rule) = rules::time_wait(tw);
    let mut o = Outcome::new(status, format!("{tw} TCP sockets in TIME_WAIT"))
        .fact("time_wait", tw)
        .fact("rule", rule)
        .fact("source", "/proc/net/sockstat")
        .evidence("/proc/net/sockstat", text.trim());
    if status == Status::Warn {
        o = o.remediation(
            "Many short-lived connections: make clients reuse connections; consider \
             net.ipv4.tcp_tw_reuse=1 on the client side.",
        );
    }
    o
}

/// The counters of one protocol in `/proc/net/snmp` or `/proc/net/netstat`: the first two
/// lines that start with `prefix` are a header line and a value line.
pub fn parse_proc_counters<T: std::str::FromStr>(text: &str, prefix: &str) -> BTreeMap<String, T> {
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with(prefix)).collect();
    let mut out = BTreeMap::new();
    if lines.len() < 2 {
        return out;
    }
    let names = lines[0].split_whitespace().skip(1);
    let values = lines[1].split_whitespace().skip(1);
    for (k, v) in names.zip(values) {
        if let Ok(n) = v.parse::<T>() {
            out.insert(k.to_owned(), n);
        }
    }
    out
}

/// The `Tcp:` counters of `/proc/net/snmp`.
pub fn parse_snmp_tcp(text: &str) -> BTreeMap<String, i64> {
    parse_proc_counters(text, "Tcp:")
}

fn tcp_retransmits(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let Ok(text) = sys::read("/proc/net/snmp") else {
        return Outcome::skipped("cannot read /proc/net/snmp");
    };
    let tcp = parse_snmp_tcp(&text);
    let (Some(out), Some(retrans)) = (tcp.get("OutSegs"), tcp.get("RetransSegs")) else {
        return Outcome::skipped("/proc/net/snmp has no OutSegs/RetransSegs");
    };
    if *out <= 0 {
        return Outcome::info("no TCP segments sent since boot").fact("out_segs", out);
    }
    let pct = 100.0 * *retrans as f64 / *out as f64;
    let (status, rule) = rules::tcp_retransmit_percent(pct);
    let mut o = Outcome::new(
        status,
        format!("{pct:.2}% of TCP segments retransmitted since boot"),
    )
    .fact("retrans_segs", retrans)
    .fact("out_segs", out)
    .fact("retransmit_percent", format!("{pct:.3}"))
    .fact("rule", rule)
    .fact("source", "/proc/net/snmp");
    if status == Status::Warn {
        o = o.remediation(
            "Packet loss between this node and its clients or peers: check interface errors, \
             MTU mismatches and congested links (`ss -ti`, `netstat -s`).",
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_name_on_loopback_only_warns_beside_a_routable_interface() {
        let lo: IpAddr = "127.0.1.1".parse().unwrap();
        let eth: IpAddr = "192.0.2.2".parse().unwrap();
        let o = hostname_outcome("vm", &[lo], &["127.0.0.1".parse().unwrap(), eth]);
        assert_eq!(o.status, Status::Warn, "{}", o.summary);
        assert!(o.remediation.unwrap().contains("192.0.2.2 vm"));
        assert_eq!(hostname_outcome("vm", &[eth], &[eth]).status, Status::Pass);
    }

    #[test]
    fn hex_addresses() {
        if cfg!(target_endian = "little") {
            assert_eq!(
                decode_hex_addr("0100007F"),
                Some("127.0.0.1".parse().unwrap())
            );
            assert_eq!(
                decode_hex_addr("00000000"),
                Some("0.0.0.0".parse().unwrap())
            );
            assert_eq!(
                decode_hex_addr("00000000000000000000000001000000"),
                Some("::1".parse().unwrap())
            );
            assert_eq!(
                decode_hex_addr("0000000000000000FFFF00000100007F"),
                Some("::ffff:127.0.0.1".parse().unwrap())
            );
        }
        assert_eq!(decode_hex_addr("xyz"), None);
    }

    #[test]
    fn proc_net_tcp_lines() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   \
                    uid  timeout inode\n   \
                    0: 00000000:1F9A 00000000:0000 0A 00000000:00000000 00:00000000 00000000  \
                    1000        0 12345 1 0000000000000000 100 0 0 10 0\n   \
                    1: 0100007F:0BB8 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000  \
                    1000        0 12346 1 0000000000000000 20 4 30 10 -1\n";
        let l = parse_proc_net(text, TCP_LISTEN);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].1, 8090);
        assert!(l[0].0.is_unspecified());
        let est = parse_proc_net(text, "01");
        assert_eq!(est[0].1, 3000);
    }

    #[test]
    fn ports_and_expected_listeners() {
        assert_eq!(port_of("127.0.0.1:8090"), Some(8090));
        assert_eq!(port_of("[::]:3000"), Some(3000));
        assert_eq!(port_of("nonsense"), None);
        let defaults = expected_listeners(None);
        assert_eq!(defaults.len(), 4);
        let cfg = crate::iggy::parse_config(
            "[tcp]\nenabled = true\naddress = \"0.0.0.0:9090\"\n[http]\nenabled = false\n",
        )
        .unwrap();
        let e = expected_listeners(Some(&cfg));
        assert!(e.contains(&ExpectedListener {
            name: "tcp",
            udp: false,
            port: 9090
        }));
        assert!(!e.iter().any(|l| l.name == "http"));
        assert!(e.contains(&ExpectedListener {
            name: "quic",
            udp: true,
            port: 8080
        }));
    }

    #[test]
    fn net_dev() {
        let text =
            "Inter-|   Receive                                                |  Transmit\n \
                    face |bytes    packets errs drop fifo frame compressed multicast|bytes    \
                    packets errs drop fifo colls carrier compressed\n    \
                    lo: 100 10 0 0 0 0 0 0 100 10 0 0 0 0 0 0\n  \
                    eth0: 5000 1000 2 3 0 0 0 0 4000 1000 1 0 0 0 0 0\n";
        let m = parse_net_dev(text);
        let eth = m.get("eth0").unwrap();
        assert_eq!(eth.rx_packets, 1000);
        assert_eq!(eth.rx_errs, 2);
        assert_eq!(eth.rx_drop, 3);
        assert_eq!(eth.tx_errs, 1);
        assert!((eth.error_percent() - 0.3).abs() < 1e-9);
        assert!(m.contains_key("lo"));
    }

    #[test]
    fn sockstat_and_snmp() {
        let s = "sockets: used 200\nTCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1\nUDP: inuse 3 mem 2\n";
        assert_eq!(parse_sockstat_tw(s), Some(2));
        let snmp = "Ip: Forwarding DefaultTTL\nIp: 1 64\n\
                    Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens \
                    AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs \
                    OutRsts InCsumErrors\n\
                    Tcp: 1 200 120000 -1 100 50 3 2 4 10000 9000 90 0 5 0\n";
        let t = parse_snmp_tcp(snmp);
        assert_eq!(t.get("OutSegs"), Some(&9000));
        assert_eq!(t.get("RetransSegs"), Some(&90));
        assert_eq!(t.get("MaxConn"), Some(&-1));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_literal_address_resolves_without_any_resolver_configuration() {
        // Whether "localhost" resolves depends on the machine (a bare chroot has no
        // /etc/hosts): that is what the check reports, so the unit test uses a literal.
        let v = resolve("127.0.0.1", Duration::from_secs(5)).unwrap();
        assert!(!v.is_empty());
    }
}
