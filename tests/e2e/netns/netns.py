"""A small network-namespace topology builder for end-to-end tests.

Namespaces get unique names (a prefix, the test process id and a short
tag), links are veth pairs created directly inside their namespaces (so
nothing appears in the host's namespace), LAN segments are Linux bridges,
routers forward and NAT with nftables. Every command is bounded by a
timeout; `Topology.destroy()` removes what was created, in reverse order,
and carries on past errors so a failed test still leaves nothing behind.
"""
import os
import shutil
import subprocess

COMMAND_TIMEOUT = 15


def missing_tools():
    """Why these tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth pairs, nftables)"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"'{tool}' is not installed (apt-get install iproute2 nftables)"
    probe = f"sipsite-probe-{os.getpid()}"
    try:
        subprocess.run(["ip", "netns", "add", probe], check=True, capture_output=True, timeout=COMMAND_TIMEOUT)
    except (subprocess.SubprocessError, OSError) as e:
        return f"'ip netns add' fails here ({e}); the kernel or container does not allow network namespaces"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=COMMAND_TIMEOUT)
    return None


def sh(*args, check=True, input=None, timeout=COMMAND_TIMEOUT):
    proc = subprocess.run(list(args), capture_output=True, text=True, input=input, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


class Topology:
    def __init__(self, prefix="ss"):
        self.prefix = f"{prefix}{os.getpid()}"
        self.namespaces = []   # real names, in creation order
        self.nft_tables = []   # (namespace, table)
        self.processes = []    # Popen objects started in namespaces

    # --- building -------------------------------------------------------
    def ns(self, tag):
        """Creates namespace PREFIX-TAG with loopback up; returns its name."""
        name = f"{self.prefix}-{tag}"
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        return name

    def forwarding(self, ns):
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")

    def link(self, ns_a, if_a, ns_b, if_b):
        """A veth pair: `if_a` in `ns_a`, `if_b` in `ns_b`, both up."""
        sh("ip", "-n", ns_a, "link", "add", if_a, "type", "veth", "peer", "name", if_b, "netns", ns_b)
        sh("ip", "-n", ns_a, "link", "set", if_a, "up")
        sh("ip", "-n", ns_b, "link", "set", if_b, "up")

    def addr(self, ns, ifname, cidr):
        sh("ip", "-n", ns, "addr", "add", cidr, "dev", ifname)

    def route(self, ns, dest, via):
        sh("ip", "-n", ns, "route", "add", dest, "via", via)

    def bridge(self, ns, name="br0", cidr=None):
        sh("ip", "-n", ns, "link", "add", name, "type", "bridge")
        sh("ip", "-n", ns, "link", "set", name, "up")
        if cidr:
            self.addr(ns, name, cidr)
        return name

    def attach(self, hub_ns, bridge, member_ns, member_if, cidr, port_name):
        """Connects `member_ns` to `bridge` in `hub_ns` by a veth pair; the
        member side gets `cidr`."""
        self.link(hub_ns, port_name, member_ns, member_if)
        sh("ip", "-n", hub_ns, "link", "set", port_name, "master", bridge)
        self.addr(member_ns, member_if, cidr)

    def nat_router(self, ns, wan_if, lan_host, tcp_ports=(), udp_range=None):
        """Masquerade (SNAT) out of `wan_if`; DNAT of the given ports arriving
        on `wan_if` to `lan_host` (the port forwards an admin sets up)."""
        table = "sipsite_test_nat"
        rules = [f"table ip {table} {{",
                 "  chain pre { type nat hook prerouting priority dstnat; policy accept;"]
        for port in tcp_ports:
            rules.append(f'    iifname "{wan_if}" tcp dport {port} dnat to {lan_host}')
        if udp_range:
            rules.append(f'    iifname "{wan_if}" udp dport {udp_range[0]}-{udp_range[1]} dnat to {lan_host}')
        rules += ["  }",
                  "  chain post { type nat hook postrouting priority srcnat; policy accept;",
                  f'    oifname "{wan_if}" masquerade',
                  "  }", "}"]
        sh("ip", "netns", "exec", ns, "nft", "-f", "-", input="\n".join(rules) + "\n")
        self.nft_tables.append((ns, table))
        self.forwarding(ns)

    # --- running --------------------------------------------------------
    def popen(self, ns, args, **kw):
        proc = subprocess.Popen(["ip", "netns", "exec", ns, *args], **kw)
        self.processes.append(proc)
        return proc

    def run(self, ns, args, timeout=COMMAND_TIMEOUT, **kw):
        return subprocess.run(["ip", "netns", "exec", ns, *args], capture_output=True, text=True,
                              timeout=timeout, **kw)

    # --- tearing down ---------------------------------------------------
    def destroy(self):
        errors = []
        for proc in reversed(self.processes):
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                errors.append(f"process {proc.pid} did not exit")
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe:
                    pipe.close()
        for ns, table in reversed(self.nft_tables):
            r = sh("ip", "netns", "exec", ns, "nft", "delete", "table", "ip", table, check=False)
            if r.returncode != 0:
                errors.append(f"nft delete table {table} in {ns}: {r.stderr.strip()}")
        for ns in reversed(self.namespaces):
            # Anything still running in the namespace (a daemon's children)
            # would keep it alive: kill by the namespace's own pid list.
            pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            r = sh("ip", "netns", "del", ns, check=False)
            if r.returncode != 0:
                errors.append(f"ip netns del {ns}: {r.stderr.strip()}")
        self.processes, self.nft_tables, self.namespaces = [], [], []
        leftovers = [n for n in sh("ip", "netns", "list", check=False).stdout.split()
                     if n.startswith(self.prefix + "-")]
        if leftovers:
            errors.append(f"namespaces left: {leftovers}")
        return errors
