#pragma once
// SDP bodies the media tests share: the RFC examples, a phone's offer, a
// WebRTC-style offer with ICE and DTLS-SRTP, an SRTP offer with SDES and
// ZRTP attributes.

#include <string_view>

namespace sipsite::media::samples {

// RFC 8866 §5 (IPv6 video c= added in RFC 8866's example).
inline constexpr std::string_view kRfc8866 =
    "v=0\r\n"
    "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1\r\n"
    "s=Call to John Smith\r\n"
    "i=SDP Offer #1\r\n"
    "u=http://www.jdoe.example.com/home.html\r\n"
    "e=Jane Doe <jane@jdoe.example.com>\r\n"
    "p=+1 617 555-6011\r\n"
    "c=IN IP4 198.51.100.1\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0\r\n"
    "m=audio 49180 RTP/AVP 0\r\n"
    "m=video 51372 RTP/AVP 99\r\n"
    "c=IN IP6 2001:db8::2\r\n"
    "a=rtpmap:99 h263-1998/90000\r\n";

// RFC 4566 §5 (multicast, TTL).
inline constexpr std::string_view kRfc4566 =
    "v=0\r\n"
    "o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\n"
    "s=SDP Seminar\r\n"
    "i=A Seminar on the session description protocol\r\n"
    "u=http://www.example.com/seminars/sdp.pdf\r\n"
    "e=j.doe@example.com (Jane Doe)\r\n"
    "c=IN IP4 224.2.17.12/127\r\n"
    "t=2873397496 2873404696\r\n"
    "a=recvonly\r\n"
    "m=audio 49170 RTP/AVP 0\r\n"
    "m=video 51372 RTP/AVP 99\r\n"
    "a=rtpmap:99 h263-1998/90000\r\n";

// A desk phone on the LAN: audio with RTCP on an explicit port (RFC 3605).
inline constexpr std::string_view kPhoneOffer =
    "v=0\r\n"
    "o=alice-phone 8000 8001 IN IP4 192.168.1.20\r\n"
    "s=Talk\r\n"
    "c=IN IP4 192.168.1.20\r\n"
    "t=0 0\r\n"
    "m=audio 7078 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=rtcp:7079 IN IP4 192.168.1.20\r\n"
    "a=sendrecv\r\n";

// WebRTC-ish: BUNDLE, rtcp-mux, ICE (host, srflx with private raddr, mDNS,
// IPv6 link-local), DTLS-SRTP fingerprint/setup, a data channel.
inline constexpr std::string_view kWebRtcOffer =
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1 2\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=audio 54400 UDP/TLS/RTP/SAVPF 111 0\r\n"
    "c=IN IP4 203.0.113.50\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:1 1 udp 2122260223 192.168.1.20 54400 typ host generation 0\r\n"
    "a=candidate:2 1 udp 1686052607 203.0.113.50 54400 typ srflx raddr 192.168.1.20 rport 54400 generation 0\r\n"
    "a=candidate:3 1 udp 2122260223 a1b2c3d4-0000-4000-8000-000000000001.local 54401 typ host generation 0\r\n"
    "a=candidate:4 1 tcp 1518280447 fe80::1 9 typ host tcptype active generation 0\r\n"
    "a=candidate:5 1 udp 2122262783 2001:db8::20 54402 typ host generation 0\r\n"
    "a=ice-ufrag:8hhY\r\n"
    "a=ice-pwd:asd88fgpdd777uzjYhagZg\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=sendrecv\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=ssrc:1001 cname:4TOk42mSjXCkVIa6\r\n"
    "a=end-of-candidates\r\n"
    "m=video 54400 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 203.0.113.50\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:1 1 udp 2122260223 192.168.1.20 54400 typ host generation 0\r\n"
    "a=ice-ufrag:8hhY\r\n"
    "a=ice-pwd:asd88fgpdd777uzjYhagZg\r\n"
    "a=fingerprint:sha-256 "
    "19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "m=application 54400 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "c=IN IP4 203.0.113.50\r\n"
    "a=candidate:1 1 udp 2122260223 192.168.1.20 54400 typ host generation 0\r\n"
    "a=ice-ufrag:8hhY\r\n"
    "a=ice-pwd:asd88fgpdd777uzjYhagZg\r\n"
    "a=fingerprint:sha-256 "
    "19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2\r\n"
    "a=setup:actpass\r\n"
    "a=mid:2\r\n"
    "a=sctp-port:5000\r\n";

// SRTP with SDES keys (RFC 4568) and a ZRTP hello hash (RFC 6189), audio +
// video, video with its own c= and RTCP on the next port.
inline constexpr std::string_view kSdesZrtp =
    "v=0\r\n"
    "o=bob 2808844564 2808844564 IN IP4 10.1.2.3\r\n"
    "s=-\r\n"
    "c=IN IP4 10.1.2.3\r\n"
    "t=0 0\r\n"
    "m=audio 16384 RTP/SAVP 0 101\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4\r\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:4\r\n"
    "a=zrtp-hash:1.10 fe30efd02423cb054e50efd0248742ac7a52c8f91bc2df881ae642c371ba46df\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "m=video 16386 RTP/SAVP 99\r\n"
    "c=IN IP4 10.1.2.3\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32\r\n"
    "a=rtpmap:99 H264/90000\r\n"
    "a=inactive\r\n";

}  // namespace sipsite::media::samples
