//! The host's network plumbing under Iggy's connections: its own addresses, TCP autotuning
//! limits, accept- and SYN-queue drops, the conntrack table, and each interface's MTU, driver
//! and queues.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use snapdesk_report::Status;

use super::kernel::{sysctl_conf, sysctl_path};
use super::{rules, CheckDef, Ctx, Outcome};
use crate::sys;

pub fn checks() -> Vec<CheckDef> {
    vec![
        CheckDef {
            id: "network.tcp_buffers",
            category: "network",
            title: "TCP autotuning limits (tcp_rmem, tcp_wmem)",
            run: tcp_buffers,
        },
        CheckDef {
            id: "network.listen_drops",
            category: "network",
            title: "Accept-queue and SYN-queue drops",
            run: listen_drops,
        },
        CheckDef {
            id: "network.conntrack",
            category: "network",
            title: "Connection tracking table use",
            run: conntrack,
        },
        CheckDef {
            id: "network.interfaces",
            category: "network",
            title: "Interfaces: MTU, driver and queues",
            run: interfaces,
        },
    ]
}

/// The IPv4 addresses of this host's interfaces, from `/proc/net/fib_trie`: the address
/// line before each `/32 host LOCAL` leaf.
pub fn parse_fib_trie_locals(text: &str) -> Vec<Ipv4Addr> {
    let mut out = Vec::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(addr) = t.strip_prefix("|-- ") {
            last = addr.trim().parse().ok();
        } else if t.contains("/32 host LOCAL") {
            if let Some(a) = last {
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        }
    }
    out.sort();
    out
}

/// The IPv6 addresses of `/proc/net/if_inet6` (32 hex digits each, in network order).
pub fn parse_if_inet6(text: &str) -> Vec<Ipv6Addr> {
    let mut out: Vec<Ipv6Addr> = text
        .lines()
        .filter_map(|l| {
            let hex = l.split_whitespace().next()?;
            let n = u128::from_str_radix(hex, 16).ok()?;
            (hex.len() == 32).then(|| Ipv6Addr::from(n))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Every address of this host's interfaces (what `ip -o addr` lists).
pub fn local_addresses() -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = Vec::new();
    if let Ok(t) = sys::read("/proc/net/fib_trie") {
        v.extend(parse_fib_trie_locals(&t).into_iter().map(IpAddr::V4));
    }
    if let Ok(t) = sys::read("/proc/net/if_inet6") {
        v.extend(parse_if_inet6(&t).into_iter().map(IpAddr::V6));
    }
    v
}

/// The three numbers of `tcp_rmem` / `tcp_wmem` (min, default, max).
pub fn parse_triple(v: &str) -> Option<(u64, u64, u64)> {
    let mut it = v.split_whitespace().map(|x| x.parse::<u64>().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

fn tcp_buffers(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let (Some(r), Some(w)) = (
        sys::sysctl("net.ipv4.tcp_rmem"),
        sys::sysctl("net.ipv4.tcp_wmem"),
    ) else {
        return Outcome::skipped("net.ipv4.tcp_rmem / tcp_wmem are not readable");
    };
    let (Some(rt), Some(wt)) = (parse_triple(&r), parse_triple(&w)) else {
        return Outcome::info(format!("tcp_rmem {r}, tcp_wmem {w} (not three numbers)"));
    };
    let moderate = sys::sysctl_u64("net.ipv4.tcp_moderate_rcvbuf");
    let (status, rule) = rules::tcp_buffers(rt.2, wt.2, moderate);
    let mut o = Outcome::new(
        status,
        format!(
            "autotuning up to {} receive, {} send per connection{}",
            super::storage::human_bytes(rt.2),
            super::storage::human_bytes(wt.2),
            if moderate == Some(0) {
                "; receive autotuning is off"
            } else {
                ""
            }
        ),
    )
    .fact("tcp_rmem", &r)
    .fact("tcp_wmem", &w)
    .fact(
        "tcp_moderate_rcvbuf",
        moderate.map_or("absent".to_owned(), |m| m.to_string()),
    )
    .fact("rule", rule)
    .fact(
        "source",
        format!(
            "{}, {}",
            sysctl_path("net.ipv4.tcp_rmem"),
            sysctl_path("net.ipv4.tcp_wmem")
        ),
    );
    if status != Status::Pass {
        let mut fixes = Vec::new();
        if moderate == Some(0) {
            fixes.push(format!(
                "Turn receive autotuning back on: `sysctl -w net.ipv4.tcp_moderate_rcvbuf=1`, \
                 persisted with `echo 'net.ipv4.tcp_moderate_rcvbuf = 1' > {}`.",
                sysctl_conf("net.ipv4.tcp_moderate_rcvbuf")
            ));
        }
        if rt.2 < 6 << 20 || wt.2 < 4 << 20 {
            let rv = format!("{} {} {}", rt.0, rt.1, rt.2.max(16 << 20));
            let wv = format!("{} {} {}", wt.0, wt.1, wt.2.max(16 << 20));
            for (name, v) in [("net.ipv4.tcp_rmem", rv), ("net.ipv4.tcp_wmem", wv)] {
                fixes.push(format!(
                    "`sysctl -w {name}='{v}'`, persisted with `echo '{name} = {v}' > {}`.",
                    sysctl_conf(name)
                ));
            }
        }
        o = o.remediation(fixes.join(" "));
    }
    o
}

/// The `TcpExt:` counters of `/proc/net/netstat`.
pub fn parse_netstat_tcpext(text: &str) -> BTreeMap<String, u64> {
    super::network::parse_proc_counters(text, "TcpExt:")
}

fn listen_drops(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let Ok(text) = sys::read("/proc/net/netstat") else {
        return Outcome::skipped("cannot read /proc/net/netstat");
    };
    let ext = parse_netstat_tcpext(&text);
    let get = |k: &str| ext.get(k).copied().unwrap_or(0);
    if !ext.contains_key("ListenOverflows") {
        return Outcome::skipped("/proc/net/netstat has no TcpExt ListenOverflows counter");
    }
    let (ovf, drops, reqq) = (
        get("ListenOverflows"),
        get("ListenDrops"),
        get("TCPReqQFullDrop"),
    );
    let (status, rule) = rules::listen_drops(ovf, drops, reqq);
    let summary = if status == Status::Pass {
        "no connection attempt dropped at listen since boot".to_owned()
    } else {
        format!(
            "since boot: {ovf} accept-queue overflows, {drops} listen drops, {reqq} SYN-queue \
             drops"
        )
    };
    let mut o = Outcome::new(status, summary)
        .fact("ListenOverflows", ovf)
        .fact("ListenDrops", drops)
        .fact("TCPReqQFullDrop", reqq)
        .fact("SyncookiesSent", get("SyncookiesSent"))
        .fact("rule", rule)
        .fact("source", "/proc/net/netstat");
    if status != Status::Pass {
        o = o.remediation(
            "Clients connected faster than a listener accepted: raise net.core.somaxconn and \
             net.ipv4.tcp_max_syn_backlog (see their checks), and look at what stalled the \
             server when it happened (`ss -ltn` shows each listener's queue).",
        );
    }
    o
}

fn conntrack(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let count = sys::sysctl_u64("net.netfilter.nf_conntrack_count");
    let max = sys::sysctl_u64("net.netfilter.nf_conntrack_max");
    let (Some(count), Some(max)) = (count, max) else {
        return Outcome::info(
            "connection tracking is not loaded (no nf_conntrack): no table to fill",
        )
        .fact("source", sysctl_path("net.netfilter.nf_conntrack_count"));
    };
    let (status, rule) = rules::conntrack(count, max);
    let pct = if max > 0 {
        100.0 * count as f64 / max as f64
    } else {
        100.0
    };
    let mut o = Outcome::new(
        status,
        format!("{count} of {max} conntrack entries in use ({pct:.1}%)"),
    )
    .fact("nf_conntrack_count", count)
    .fact("nf_conntrack_max", max)
    .fact("rule", rule)
    .fact(
        "source",
        format!(
            "{}, {}",
            sysctl_path("net.netfilter.nf_conntrack_count"),
            sysctl_path("net.netfilter.nf_conntrack_max")
        ),
    );
    if status != Status::Pass {
        let v = (max * 2).max(262_144);
        o = o.remediation(format!(
            "A full table drops new connections (`nf_conntrack: table full` in the kernel \
             log): `sysctl -w net.netfilter.nf_conntrack_max={v}`, persisted with `echo \
             'net.netfilter.nf_conntrack_max = {v}' > {}`; or exempt Iggy's ports from \
             tracking (`notrack`).",
            sysctl_conf("net.netfilter.nf_conntrack_max")
        ));
    }
    o
}

/// What `/sys/class/net/<if>` says about one interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nic {
    pub name: String,
    pub mtu: Option<u64>,
    pub driver: Option<String>,
    pub operstate: Option<String>,
    pub rx_queues: usize,
    pub tx_queues: usize,
    /// Mb/s, when the driver reports it.
    pub speed: Option<i64>,
    /// Backed by a device (not a bridge, veth, bond or loopback).
    pub physical: bool,
}

fn read_nic(dir: &Path) -> Nic {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (mut rx, mut tx) = (0, 0);
    if let Ok(rd) = std::fs::read_dir(dir.join("queues")) {
        for e in rd.filter_map(|e| e.ok()) {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with("rx-") {
                rx += 1;
            } else if n.starts_with("tx-") {
                tx += 1;
            }
        }
    }
    let driver = std::fs::read_link(dir.join("device/driver"))
        .ok()
        .and_then(|l| l.file_name().map(|n| n.to_string_lossy().into_owned()));
    Nic {
        name,
        mtu: sys::read_trim(dir.join("mtu")).and_then(|v| v.parse().ok()),
        physical: dir.join("device").exists(),
        driver,
        operstate: sys::read_trim(dir.join("operstate")),
        rx_queues: rx,
        tx_queues: tx,
        speed: sys::read_trim(dir.join("speed")).and_then(|v| v.parse().ok()),
    }
}

/// One interface as a fact value.
pub fn describe_nic(n: &Nic) -> String {
    let mut parts = vec![format!(
        "mtu {}",
        n.mtu.map_or("?".to_owned(), |m| m.to_string())
    )];
    parts.push(format!(
        "driver {}",
        n.driver.as_deref().unwrap_or("none (virtual)")
    ));
    parts.push(format!("{} rx / {} tx queues", n.rx_queues, n.tx_queues));
    if let Some(s) = n.speed.filter(|s| *s > 0) {
        parts.push(format!("{s} Mb/s"));
    }
    if let Some(st) = &n.operstate {
        parts.push(st.clone());
    }
    parts.join(", ")
}

fn interfaces(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let Ok(rd) = std::fs::read_dir("/sys/class/net") else {
        return Outcome::skipped("cannot list /sys/class/net");
    };
    let mut nics: Vec<Nic> = rd
        .filter_map(|e| e.ok())
        .map(|e| read_nic(&e.path()))
        .collect();
    nics.sort_by(|a, b| a.name.cmp(&b.name));
    let up_physical: Vec<&Nic> = nics
        .iter()
        .filter(|n| n.physical && n.operstate.as_deref() == Some("up"))
        .collect();
    let mtus: Vec<u64> = up_physical.iter().filter_map(|n| n.mtu).collect();
    let (status, rule) = rules::mtus(&mtus);
    let list: Vec<String> = up_physical
        .iter()
        .map(|n| format!("{} mtu {}", n.name, n.mtu.unwrap_or(0)))
        .collect();
    let summary = if list.is_empty() {
        format!(
            "{} interface(s), none of them a device that is up",
            nics.len()
        )
    } else {
        format!("up: {}", list.join(", "))
    };
    let mut o = Outcome::new(status, summary);
    for n in &nics {
        o = o.fact(n.name.as_str(), describe_nic(n));
    }
    if status == Status::Warn {
        o = o.remediation(
            "Give the interfaces that carry Iggy traffic one MTU that the whole path supports \
             (`ip link set dev IF mtu 1500`, persisted in the network configuration); a \
             mismatch fragments or black-holes large messages.",
        );
    }
    o.fact("rule", rule).fact("source", "/sys/class/net")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fib_trie_and_if_inet6_give_the_local_addresses() {
        let trie = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 0.0.0.0\n        /0 universe UNICAST\n\
                    \x20    +-- 127.0.0.0/8 2 0 2\n        |-- 127.0.0.1\n           /32 host LOCAL\n\
                    \x20    |-- 192.0.2.0\n        /24 link UNICAST\n     |-- 192.0.2.2\n\
                    \x20       /32 host LOCAL\nLocal:\n     |-- 192.0.2.2\n        /32 host LOCAL\n";
        let v = parse_fib_trie_locals(trie);
        assert_eq!(
            v,
            vec![
                "127.0.0.1".parse::<Ipv4Addr>().unwrap(),
                "192.0.2.2".parse().unwrap()
            ]
        );
        let inet6 = "00000000000000000000000000000001 01 80 10 80       lo\n\
                     fd000000000000000000000000000002 04 40 00 82     eth0\n";
        let v6 = parse_if_inet6(inet6);
        assert_eq!(v6[0], "::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(v6[1], "fd00::2".parse::<Ipv6Addr>().unwrap());
    }

    #[test]
    fn tcpext_counters() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPReqQFullDrop\n\
                    TcpExt: 0 2 3 1\nIpExt: InNoRoutes\nIpExt: 0\n";
        let m = parse_netstat_tcpext(text);
        assert_eq!(m.get("ListenOverflows"), Some(&2));
        assert_eq!(m.get("ListenDrops"), Some(&3));
        assert_eq!(m.get("TCPReqQFullDrop"), Some(&1));
        assert_eq!(
            parse_triple("4096\t131072\t6291456"),
            Some((4096, 131_072, 6_291_456))
        );
        assert_eq!(parse_triple("4096 1"), None);
    }
}
