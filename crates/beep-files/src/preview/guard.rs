//! Which addresses a preview fetch may connect to. Everything that is not a public
//! unicast address is refused: loopback, private, link-local (cloud metadata at
//! 169.254.169.254 included), shared, unique-local, IPv4-mapped and translated
//! IPv6, multicast, documentation and reserved ranges.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || o[0] == 0
        || (o[0] == 100 && (64..128).contains(&o[1]))  // shared address space (CGNAT)
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)     // IETF protocol assignments
        || (o[0] == 198 && (o[1] == 18 || o[1] == 19)) // benchmarking
        || o[0] >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00          // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80          // link local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0          // site local (deprecated)
        || ip.to_ipv4_mapped().is_some()      // ::ffff:a.b.c.d
        || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0) // ::a.b.c.d
        || (s[0] == 0x64 && s[1] == 0xff9b)   // NAT64
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || s[0] == 0x2002                     // 6to4 embeds an IPv4 address
        || (s[0] == 0x2001 && s[1] == 0)) // Teredo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_everything_but_public_unicast() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
        ] {
            assert!(!is_public(bad.parse().expect(bad)), "{bad}");
        }
        for good in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "93.184.216.34",
        ] {
            assert!(is_public(good.parse().expect(good)), "{good}");
        }
    }
}
