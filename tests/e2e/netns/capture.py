"""Captures every IPv4 packet on the interfaces of the namespace it runs in
(a raw AF_PACKET socket, so no tcpdump needed) until stdin closes or
--seconds pass, then prints a JSON summary on stdout:

    {"packets": N, "udp": N, "tcp": N, "srtp_tunnel": N, "udp_other": N,
     "markers": {marker: count}, "leaks": [...]}

srtp_tunnel counts UDP packets shaped like the relays' SRTP tunnel packets
(RTP version 2, payload type 127), udp_other every other UDP packet.

A leak is a packet whose IP header names a forbidden address, or a UDP
packet whose payload carries one (as text or as its four bytes).
--between A,B,...: only packets whose source and destination are both in
that list are examined (the path between two sites on one LAN).
"""
import argparse
import ipaddress
import json
import select
import socket
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--forbid", required=True, help="comma-separated addresses that must not appear")
    p.add_argument("--marker", action="append", default=[])
    p.add_argument("--between", default="")
    p.add_argument("--seconds", type=float, default=50)
    a = p.parse_args()
    forbidden = {ip: (ip.encode(), ipaddress.IPv4Address(ip).packed) for ip in a.forbid.split(",") if ip}
    between = {ipaddress.IPv4Address(ip).packed for ip in a.between.split(",") if ip}
    markers = {m: 0 for m in a.marker}
    # UDP payloads between the sites that are the relays' SRTP tunnel
    # packets (V=2, payload type 127), and those that are not.
    summary = {"packets": 0, "udp": 0, "tcp": 0, "leaks": [], "srtp_tunnel": 0, "udp_other": 0}
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    print(json.dumps({"event": "capturing"}), flush=True)
    deadline = time.monotonic() + a.seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([s, sys.stdin], [], [], 0.2)
        if sys.stdin in ready and not sys.stdin.readline():
            break
        if s not in ready:
            continue
        frame, (ifname, proto, pkttype, _, _) = s.recvfrom(65535)
        if proto != ETH_P_IP or pkttype == socket.PACKET_OUTGOING:
            continue  # IPv4 only, each packet once (as it arrives on an interface)
        ip = frame[14:]
        if len(ip) < 20:
            continue
        ihl = (ip[0] & 0x0F) * 4
        src, dst, protocol = ip[12:16], ip[16:20], ip[9]
        if between and not (src in between and dst in between):
            continue
        summary["packets"] += 1
        payload = b""
        if protocol == 17:
            summary["udp"] += 1
            payload = ip[ihl + 8:]
            if len(payload) >= 12 and payload[0] == 0x80 and payload[1] == 127:
                summary["srtp_tunnel"] += 1
            else:
                summary["udp_other"] += 1
            for m in markers:
                if m.encode() in payload:
                    markers[m] += 1
        elif protocol == 6:
            summary["tcp"] += 1
        for text, (as_text, packed) in forbidden.items():
            where = []
            if packed in (src, dst):
                where.append("ip header")
            if payload and (as_text in payload or packed in payload):
                where.append("udp payload")
            if where and len(summary["leaks"]) < 20:
                summary["leaks"].append({"interface": ifname, "address": text, "where": where,
                                         "src": str(ipaddress.IPv4Address(src)),
                                         "dst": str(ipaddress.IPv4Address(dst)), "protocol": protocol})
    summary["markers"] = markers
    s.close()
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
