//! Small clients for the protocols the node checks speak: gearmand's admin text protocol,
//! SNTP (RFC 4330) and supervisord's XML-RPC.

pub mod gearman;
pub mod sntp;
pub mod xmlrpc;
