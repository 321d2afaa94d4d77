//! Small clients for the protocols the node checks speak: gearmand's admin text protocol,
//! SNTP (RFC 4330) and supervisord's XML-RPC.

pub mod gearman;
pub mod sntp;
pub mod xmlrpc;

/// Robustness: the parsers of what peers and host files send never panic, whatever the bytes.
#[cfg(test)]
mod robustness {
    use crate::mutation::mutants;

    #[test]
    fn gearman_answers() {
        let samples: &[&[u8]] =
            &[b"enviarProcesso\t5\t1\t2", b"33 127.0.0.1 - : receberProcedimento expedirBloco", b"OK 1.1.20+ds"];
        mutants(samples, 20_000, |b| {
            let t = String::from_utf8_lossy(b);
            let _ = super::gearman::parse_status_line(&t);
            let _ = super::gearman::parse_worker_line(&t);
            let _ = super::gearman::parse_version(&t);
        });
    }

    #[test]
    fn sntp_replies() {
        let mut good = vec![0u8; 48];
        good[0] = 0x24;
        good[1] = 2;
        good[24..32].copy_from_slice(&42u64.to_be_bytes());
        good[40..48].copy_from_slice(&0xe000_0000_0000_0000u64.to_be_bytes());
        mutants(&[&good], 20_000, |b| {
            let _ = super::sntp::parse_reply(b, 42, 1.7e9);
        });
    }

    #[test]
    fn xmlrpc_responses() {
        let ok: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n<?xml version='1.0'?><methodResponse><params><param><value><array><data><value><struct><member><name>statename</name><value><string>FATAL &amp; co</string></value></member><member><name>pid</name><value><int>0</int></value></member></struct></value></data></array></value></param></params></methodResponse>";
        let chunked: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<a/>x\r\n0\r\n\r\n";
        let fault: &[u8] = b"<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>10</int></value></member></struct></value></fault></methodResponse>";
        mutants(&[ok, chunked, fault], 20_000, |b| {
            let _ = super::xmlrpc::parse_http(b);
            let _ = super::xmlrpc::parse_response(&String::from_utf8_lossy(b));
        });
    }
}
