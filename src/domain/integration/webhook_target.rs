//! Where webhook deliveries may go: the guard against server-side request forgery.
//!
//! A receiver is refused when its address is loopback, private (RFC 1918, the shared
//! 100.64.0.0/10), link-local, unique-local, unspecified, multicast or broadcast, reserved or
//! for documentation, or a cloud metadata service; when its name is one that always means
//! such a place (`localhost`, `*.local`, `*.internal`, a name without a dot, the metadata
//! names); and when its URL carries a user name or password. Addresses are judged as the
//! connection would use them, never as text: the URL parser (WHATWG host parsing) reads
//! `2130706433`, `0x7f.1`, `0177.1` and `127.1` as 127.0.0.1, and an IPv6 address that carries
//! an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64
//! `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::`) is judged by the IPv4 address inside.
//!
//! The operator's allow-list (`RECTRACK_WEBHOOK_ALLOW`) opens address ranges and host names
//! for a unit's intranet receivers; metadata services stay closed whatever it says.
//!
//! [`url`] is the one check of a URL, at registration, on a change of it and before every
//! delivery; [`resolved`] is the check of the addresses a name resolves to at delivery, made
//! by the resolver the sender connects through (so that the address checked is the address
//! connected to, and a name that changes its answer between the two is caught).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use reqwest::Url;
use url::Host;

use crate::error::{AppError, AppResult};

/// What a refused address or name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Loopback,
    /// RFC 1918, the shared address space (CGNAT) and local-use NAT64; private names.
    Private,
    LinkLocal,
    UniqueLocal,
    Unspecified,
    /// Multicast and broadcast.
    Multicast,
    /// Documentation, benchmarking, IETF protocol assignments and other reserved ranges.
    Reserved,
    /// A cloud metadata service: never allowed, whatever the allow-list says.
    Metadata,
}

impl Class {
    /// The message key naming what kind of place it is.
    fn kind_key(self) -> &'static str {
        match self {
            Self::Loopback => "webhook-target-loopback",
            Self::Private => "webhook-target-private",
            Self::LinkLocal => "webhook-target-link-local",
            Self::UniqueLocal => "webhook-target-unique-local",
            Self::Unspecified => "webhook-target-unspecified",
            Self::Multicast => "webhook-target-multicast",
            Self::Reserved | Self::Metadata => "webhook-target-reserved",
        }
    }
}

/// Metadata services of the clouds a unit may run on: AWS, GCP, Azure, OpenStack and others
/// (169.254.169.254 and AWS's IPv6 fd00:ec2::254), AWS ECS task metadata (169.254.170.2),
/// Alibaba Cloud (100.100.100.200), Tencent Cloud (169.254.0.23), Oracle Cloud's former one
/// (192.0.0.192).
const METADATA_V4: [Ipv4Addr; 5] = [
    Ipv4Addr::new(169, 254, 169, 254),
    Ipv4Addr::new(169, 254, 170, 2),
    Ipv4Addr::new(100, 100, 100, 200),
    Ipv4Addr::new(169, 254, 0, 23),
    Ipv4Addr::new(192, 0, 0, 192),
];
const METADATA_V6: [Ipv6Addr; 1] = [Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)];

/// Names of metadata services.
const METADATA_NAMES: [&str; 6] = [
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.tencentyun.com",
];

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(first: u16, second: u16, prefix: u8) -> Ipv6Net {
    Ipv6Net::new_assert(Ipv6Addr::new(first, second, 0, 0, 0, 0, 0, 0), prefix)
}

/// The IPv4 special-purpose ranges (IANA's registry) and what each is.
const SPECIAL_V4: [(Ipv4Net, Class); 15] = [
    (v4(0, 0, 0, 0, 8), Class::Unspecified),
    (v4(10, 0, 0, 0, 8), Class::Private),
    (v4(100, 64, 0, 0, 10), Class::Private),
    (v4(127, 0, 0, 0, 8), Class::Loopback),
    (v4(169, 254, 0, 0, 16), Class::LinkLocal),
    (v4(172, 16, 0, 0, 12), Class::Private),
    (v4(192, 0, 0, 0, 24), Class::Reserved),
    (v4(192, 0, 2, 0, 24), Class::Reserved),
    (v4(192, 88, 99, 0, 24), Class::Reserved),
    (v4(192, 168, 0, 0, 16), Class::Private),
    (v4(198, 18, 0, 0, 15), Class::Reserved),
    (v4(198, 51, 100, 0, 24), Class::Reserved),
    (v4(203, 0, 113, 0, 24), Class::Reserved),
    (v4(224, 0, 0, 0, 4), Class::Multicast),
    // Reserved for future use, and 255.255.255.255, the broadcast address.
    (v4(240, 0, 0, 0, 4), Class::Reserved),
];

/// The IPv6 ranges inside global unicast (2000::/3) that are not global, and the ranges
/// outside it that have a name of their own; any other address outside 2000::/3 is reserved.
const SPECIAL_V6: [(Ipv6Net, Class); 8] = [
    (v6(0x2001, 0, 23), Class::Reserved),
    (v6(0x2001, 0xdb8, 32), Class::Reserved),
    (v6(0x3fff, 0, 20), Class::Reserved),
    (v6(0x5f00, 0, 16), Class::Reserved),
    (v6(0xfc00, 0, 7), Class::UniqueLocal),
    (v6(0xfe80, 0, 10), Class::LinkLocal),
    (v6(0xfec0, 0, 10), Class::Private),
    (v6(0xff00, 0, 8), Class::Multicast),
];

/// What `ip` is, when it is not an ordinary public address.
pub fn classify(ip: IpAddr) -> Option<Class> {
    match canonical(ip) {
        IpAddr::V4(ip) => classify_v4(ip),
        IpAddr::V6(ip) => classify_v6(ip),
    }
}

/// An IPv4-mapped IPv6 address is the IPv4 address it maps: the socket connects there.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Class> {
    if METADATA_V4.contains(&ip) {
        return Some(Class::Metadata);
    }
    if ip.is_broadcast() {
        return Some(Class::Multicast);
    }
    SPECIAL_V4
        .iter()
        .find(|(net, _)| net.contains(&ip))
        .map(|(_, class)| *class)
}

fn classify_v6(ip: Ipv6Addr) -> Option<Class> {
    if METADATA_V6.contains(&ip) {
        return Some(Class::Metadata);
    }
    if ip.is_unspecified() {
        return Some(Class::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Class::Loopback);
    }
    let [a, b, c, d, e, f, g, h] = ip.segments();
    let low = Ipv4Addr::new((g >> 8) as u8, g as u8, (h >> 8) as u8, h as u8);
    // IPv4-compatible (::a.b.c.d, deprecated): reserved, and named by the IPv4 address.
    if [a, b, c, d, e, f] == [0; 6] {
        return Some(classify_v4(low).unwrap_or(Class::Reserved));
    }
    // NAT64's well-known prefix reaches the IPv4 address inside.
    if [a, b, c, d, e, f] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return classify_v4(low);
    }
    // Local-use NAT64 (64:ff9b:1::/48) reaches the operator's own network.
    if a == 0x64 && b == 0xff9b && c == 1 {
        return Some(Class::Private);
    }
    // 6to4 carries the IPv4 address of its relay in bits 16 to 48.
    if a == 0x2002 {
        return classify_v4(Ipv4Addr::new(
            (b >> 8) as u8,
            b as u8,
            (c >> 8) as u8,
            c as u8,
        ));
    }
    if let Some((_, class)) = SPECIAL_V6.iter().find(|(net, _)| net.contains(&ip)) {
        return Some(*class);
    }
    // Everything outside global unicast (2000::/3) is unassigned or special.
    (a & 0xe000 != 0x2000).then_some(Class::Reserved)
}

/// What a host name is, when it always means a place that is not on the internet.
fn classify_name(name: &str) -> Option<Class> {
    if METADATA_NAMES.contains(&name) {
        return Some(Class::Metadata);
    }
    let under = |zone: &str| name == zone || name.ends_with(&format!(".{zone}"));
    if under("localhost") {
        Some(Class::Loopback)
    } else if under("local") {
        // Multicast DNS: names on the local link.
        Some(Class::LinkLocal)
    } else if under("internal") || under("home.arpa") || under("lan") || !name.contains('.') {
        // Private-use zones, and a bare name that only a search domain makes whole.
        Some(Class::Private)
    } else {
        None
    }
}

/// An entry of the allow-list: a range (`10.20.0.0/16`, or one address), a host name
/// (`hooks.unit.internal`), or every name under a domain (`*.unit.internal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    Net(IpNet),
    Name(String),
    Under(String),
}

impl FromStr for Allowed {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let bad = || {
            format!(
                "'{text}' is neither an address range (10.20.0.0/16, fd12::/48), an address nor a host name (hooks.unit.internal, *.unit.internal)"
            )
        };
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(Self::Net(net.trunc()));
        }
        let (wildcard, name) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        // The URL parser's own reading, so an entry means what a URL's host means.
        match Host::parse(name).map_err(|_| bad())? {
            Host::Domain(name) if !name.is_empty() => {
                let name = name.trim_end_matches('.').to_owned();
                Ok(if wildcard {
                    Self::Under(name)
                } else {
                    Self::Name(name)
                })
            }
            Host::Ipv4(ip) if !wildcard => Ok(Self::Net(IpNet::from(IpAddr::V4(ip)))),
            Host::Ipv6(ip) if !wildcard => Ok(Self::Net(IpNet::from(IpAddr::V6(ip)))),
            _ => Err(bad()),
        }
    }
}

/// The allow-list as configured: entries separated by commas; blank ones (an empty setting)
/// are none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList(Vec<Allowed>);

impl FromStr for AllowList {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl std::ops::Deref for AllowList {
    type Target = [Allowed];

    fn deref(&self) -> &[Allowed] {
        &self.0
    }
}

/// Whether the allow-list names `name`.
fn name_allowed(name: &str, allow: &[Allowed]) -> bool {
    allow.iter().any(|entry| match entry {
        Allowed::Name(allowed) => allowed == name,
        Allowed::Under(domain) => name.ends_with(&format!(".{domain}")),
        Allowed::Net(_) => false,
    })
}

/// Why an address may not be connected to, if it may not.
fn address_refused(ip: IpAddr, allow: &[Allowed]) -> Option<Class> {
    let ip = canonical(ip);
    let class = classify(ip)?;
    let opened = class != Class::Metadata
        && allow
            .iter()
            .any(|entry| matches!(entry, Allowed::Net(net) if net.contains(&ip)));
    (!opened).then_some(class)
}

fn refused(host: &str, class: Class) -> AppError {
    let message = if class == Class::Metadata {
        t!("webhook-target-metadata", host = host)
    } else {
        let kind = crate::i18n::message(class.kind_key(), &[]);
        t!("webhook-target-refused", host = host, kind = kind)
    };
    AppError::bad_input("url", message)
}

/// Checks a receiver's URL as it is registered or changed: http or https, no user name or
/// password, and a host that is refused neither by its address nor by its name. Returns the
/// URL as it is stored.
pub fn url(value: &str, allow: &[Allowed]) -> AppResult<Url> {
    checked(value, allow, true)
}

/// Checks a stored URL before a delivery, as [`url`] does, except that a host name is judged
/// by the addresses it resolves to ([`resolved`]) rather than by what it says; only the
/// metadata services' names are refused as names.
pub fn deliverable(value: &str, allow: &[Allowed]) -> AppResult<Url> {
    checked(value, allow, false)
}

fn checked(value: &str, allow: &[Allowed], by_name: bool) -> AppResult<Url> {
    let value = value.trim();
    let invalid = || AppError::bad_input("url", t!("webhook-url-invalid", url = value));
    let parsed = Url::parse(value).map_err(|_| invalid())?;
    // Before anything echoes the URL back: a password is neither kept nor repeated.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(AppError::bad_input("url", t!("webhook-url-credentials")));
    }
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid());
    }
    match parsed.host() {
        Some(Host::Ipv4(ip)) => check_address(&ip.to_string(), IpAddr::V4(ip), allow)?,
        Some(Host::Ipv6(ip)) => check_address(&format!("[{ip}]"), IpAddr::V6(ip), allow)?,
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            if name.is_empty() {
                return Err(invalid());
            }
            match classify_name(name) {
                Some(Class::Metadata) => return Err(refused(name, Class::Metadata)),
                Some(class) if by_name && !name_allowed(name, allow) => {
                    return Err(refused(name, class));
                }
                _ => {}
            }
        }
        None => return Err(invalid()),
    }
    Ok(parsed)
}

/// A stored URL as it is shown: an endpoint registered before credentials were refused keeps
/// them in its row (deliveries to it are refused), but they are never shown.
pub fn shown(stored: &str) -> String {
    match Url::parse(stored) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            // Only URLs that cannot have credentials refuse these, and they have none.
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => stored.to_owned(),
    }
}

fn check_address(host: &str, ip: IpAddr, allow: &[Allowed]) -> AppResult<()> {
    match address_refused(ip, allow) {
        Some(class) => Err(refused(host, class)),
        None => Ok(()),
    }
}

/// Checks the addresses `name` resolved to for a delivery: every one must be allowed (a
/// name the allow-list names may resolve anywhere but to a metadata service). The first
/// address refused is the answer.
pub fn resolved(name: &str, addresses: &[IpAddr], allow: &[Allowed]) -> Result<(), IpAddr> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let named = name_allowed(&name, allow);
    for ip in addresses {
        let refused = if named {
            classify(*ip) == Some(Class::Metadata)
        } else {
            address_refused(*ip, allow).is_some()
        };
        if refused {
            return Err(*ip);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(url: &str) -> Option<Class> {
        match Url::parse(url).unwrap().host().unwrap() {
            Host::Ipv4(ip) => classify(IpAddr::V4(ip)),
            Host::Ipv6(ip) => classify(IpAddr::V6(ip)),
            Host::Domain(name) => classify_name(name.trim_end_matches('.')),
        }
    }

    /// The URL parser reads every spelling of an IPv4 address as the address itself.
    #[test]
    fn every_spelling_of_an_address_is_the_address() {
        for spelled in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://0x7f000001/",
            "http://127.1/",
            "http://127.0.1/",
            "http://%31%32%37.0.0.1/",
            "http://\u{ff11}\u{ff12}\u{ff17}.0.0.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::127.0.0.1]/",
            "http://[2002:7f00:1::]/",
            "http://LOCALHOST./",
        ] {
            assert_eq!(class(spelled), Some(Class::Loopback), "{spelled}");
        }
        assert_eq!(class("http://[::1]:6379/"), Some(Class::Loopback));
        assert_eq!(class("http://0.0.0.0/"), Some(Class::Unspecified));
        assert_eq!(class("http://[::]/"), Some(Class::Unspecified));
    }

    #[test]
    fn each_range_is_named() {
        for (url, expected) in [
            ("http://169.254.169.254/latest/meta-data/", Class::Metadata),
            ("http://[fd00:ec2::254]/", Class::Metadata),
            ("http://[::ffff:169.254.169.254]/", Class::Metadata),
            ("http://2852039166/", Class::Metadata),
            ("http://100.100.100.200/", Class::Metadata),
            ("http://metadata.google.internal./", Class::Metadata),
            ("http://10.1.2.3/", Class::Private),
            ("http://172.31.0.1/", Class::Private),
            ("http://192.168.1.1/", Class::Private),
            ("http://100.64.0.1/", Class::Private),
            ("http://[64:ff9b:1::a00:1]/", Class::Private),
            ("http://intranet/", Class::Private),
            ("http://hooks.unit.internal/", Class::Private),
            ("http://169.254.1.1/", Class::LinkLocal),
            ("http://[fe80::1]/", Class::LinkLocal),
            ("http://printer.local/", Class::LinkLocal),
            ("http://[fc00::1]/", Class::UniqueLocal),
            ("http://[fd12:3456::1]/", Class::UniqueLocal),
            ("http://224.0.0.1/", Class::Multicast),
            ("http://255.255.255.255/", Class::Multicast),
            ("http://240.0.0.1/", Class::Reserved),
            ("http://[ff02::1]/", Class::Multicast),
            ("http://192.0.2.1/", Class::Reserved),
            ("http://198.51.100.7/", Class::Reserved),
            ("http://203.0.113.9/", Class::Reserved),
            ("http://198.18.0.1/", Class::Reserved),
            ("http://[2001:db8::1]/", Class::Reserved),
            ("http://[100::1]/", Class::Reserved),
        ] {
            assert_eq!(class(url), Some(expected), "{url}");
        }
        for public in [
            "http://8.8.8.8/",
            "http://[2606:4700::1111]/",
            "http://[::ffff:8.8.8.8]/",
            "http://[64:ff9b::808:808]/",
            "http://hooks.example.gov.cn/",
            "http://172.32.0.1/",
            "http://100.128.0.1/",
        ] {
            assert_eq!(class(public), None, "{public}");
        }
    }

    #[test]
    fn the_allow_list_opens_ranges_and_names_but_never_metadata() {
        let allow: Vec<Allowed> = [
            "127.0.0.1",
            "10.20.0.0/16",
            "hooks.unit.internal",
            "*.corp.lan",
        ]
        .iter()
        .map(|e| e.parse().unwrap())
        .collect();
        assert!(url("http://127.0.0.1:9000/x", &allow).is_ok());
        assert!(url("http://[::ffff:127.0.0.1]:9000/x", &allow).is_ok());
        assert!(url("http://127.0.0.2/x", &allow).is_err());
        assert!(url("http://10.20.3.4/x", &allow).is_ok());
        assert!(url("http://10.21.3.4/x", &allow).is_err());
        assert!(url("http://hooks.unit.internal/x", &allow).is_ok());
        assert!(url("http://other.unit.internal/x", &allow).is_err());
        assert!(url("http://a.corp.lan/x", &allow).is_ok());
        // At delivery a name is judged by its addresses; the metadata names stay refused.
        assert!(deliverable("http://localhost:9000/x", &[]).is_ok());
        assert!(deliverable("http://metadata.google.internal/x", &allow).is_err());
        assert!(deliverable("http://127.0.0.2/x", &allow).is_err());
        let everything: Vec<Allowed> = vec!["0.0.0.0/0".parse().unwrap()];
        assert!(url("http://169.254.169.254/", &everything).is_err());
        assert!(resolved("x.example", &["10.20.1.1".parse().unwrap()], &allow).is_ok());
        assert!(resolved("x.example", &["10.99.1.1".parse().unwrap()], &allow).is_err());
        let named = ["10.99.1.1".parse().unwrap()];
        assert!(resolved("hooks.unit.internal.", &named, &allow).is_ok());
        let metadata = ["169.254.169.254".parse().unwrap()];
        assert!(resolved("hooks.unit.internal", &metadata, &allow).is_err());
        assert!("".parse::<Allowed>().is_err());
        assert_eq!("".parse::<AllowList>().unwrap().len(), 0);
        assert_eq!(
            " 10.0.0.0/8, , hooks.unit.internal "
                .parse::<AllowList>()
                .unwrap()
                .len(),
            2
        );
        assert!("10.0.0.0/8,http://x/".parse::<AllowList>().is_err());
        assert!("*.10.0.0.1".parse::<Allowed>().is_err());
        assert!("http://x/".parse::<Allowed>().is_err());
    }

    #[test]
    fn stored_credentials_are_never_shown() {
        assert_eq!(
            shown("https://u:p@hooks.example.org/x"),
            "https://hooks.example.org/x"
        );
        assert_eq!(
            shown("https://hooks.example.org/x"),
            "https://hooks.example.org/x"
        );
    }

    #[test]
    fn credentials_are_refused_without_echoing_them() {
        for with in [
            "http://user:secret@8.8.8.8/",
            "https://user@example.org/",
            "ftp://u:secret@x/",
        ] {
            let err = url(with, &[]).unwrap_err();
            assert!(!err.message().contains("secret"), "{}", err.message());
        }
    }
}
