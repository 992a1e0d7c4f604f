"""A container host with two neighbours, built inside the private network namespace this
script is started in (`unshare -n python firewall_topology.py RULESET PROBE...`).

This namespace is the host: `lan0` holds its LAN address (192.168.1.244/24), `oth0` routes
another network (192.168.4.0/24, another VLAN or a VPN), `ctr0` leads to a "container"
(172.18.0.2) serving `ok` on 8080. Each neighbour and the container are network
namespaces of their own (`unshare -n sleep`), joined by veth pairs and entered with
`nsenter`. A stand-in for Docker DNATs the published ports to the container and, as
Docker's FORWARD chain does, accepts every connection to the container port whatever its
source. Then the ruleset under test is loaded (none when RULESET is `-`) and each PROBE
(`from:address:port`, from `lan` or `other`) connects; one line per probe says `open` or
`closed`. No packet leaves the namespaces.

The `lan` neighbour also sends to 127.0.0.1 through the host, as a crafted packet from
the LAN can (moby/moby#41872).
"""

from __future__ import annotations

import subprocess
import sys
import time

DOCKER_STANDIN = """
table ip standin {
  chain prerouting {
    type nat hook prerouting priority dstnat;
    ip daddr 192.168.1.244 tcp dport 4000 dnat to 172.18.0.2:8080
    fib daddr type local tcp dport 4443 dnat to 172.18.0.2:8080
    ip daddr 127.0.0.1 tcp dport 5432 dnat to 172.18.0.2:8080
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    oifname "ctr0" ip daddr 172.18.0.2 tcp dport 8080 accept
    iifname "ctr0" accept
  }
}
"""
SERVER = """
import socket
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", 8080))
server.listen()
while True:
    client, _ = server.accept()
    client.sendall(b"ok")
    client.close()
"""
CLIENT = """
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1.5) as c:
        print("open" if c.recv(2) == b"ok" else "closed")
except OSError:
    print("closed")
"""
# name: (host-side NIC, host address, the namespace's address, its gateway)
LINKS = {
    "container": ("ctr0", "172.18.0.1/24", "172.18.0.2/24", "172.18.0.1"),
    "lan": ("lan0", "192.168.1.244/24", "192.168.1.50/24", "192.168.1.244"),
    "other": ("oth0", "192.168.4.1/24", "192.168.4.7/24", "192.168.4.1"),
}


def run(*command: str, stdin: str | None = None) -> str:
    return subprocess.run(command, input=stdin, check=True, capture_output=True, text=True).stdout


def inside(pid: int, *command: str) -> list[str]:
    return ["nsenter", "-t", str(pid), "-n", *command]


def connect(pids: dict[str, int], name: str) -> None:
    """A veth pair from the host into namespace `name`, addressed and routed."""
    nic, host_address, address, gateway = LINKS[name]
    run("ip", "link", "add", nic, "type", "veth", "peer", "name", "eth0", "netns", str(pids[name]))
    run("ip", "addr", "add", host_address, "dev", nic)
    run("ip", "link", "set", nic, "up")
    run(*inside(pids[name], "ip", "addr", "add", address, "dev", "eth0"))
    run(*inside(pids[name], "ip", "link", "set", "eth0", "up"))
    run(*inside(pids[name], "ip", "route", "add", "default", "via", gateway))


def crafting(pid: int) -> None:
    """The neighbour routes 127.0.0.1 to the host and takes replies from it
    (`route_localnet`): what a crafted packet and a raw socket do on a real LAN."""
    run(*inside(pid, "ip", "route", "add", "127.0.0.1/32", "via", "192.168.1.244"))
    setting = "echo 1 > /proc/sys/net/ipv4/conf/eth0/route_localnet"
    run(*inside(pid, "sh", "-c", setting))


def main(ruleset: str, probes: list[str]) -> None:
    holders = {name: subprocess.Popen(["unshare", "-n", "sleep", "120"]) for name in LINKS}
    pids = {name: process.pid for name, process in holders.items()}
    server = None
    try:
        time.sleep(0.2)  # unshare has made the namespace once it runs sleep
        run("ip", "link", "set", "lo", "up")
        for name in LINKS:
            connect(pids, name)
        crafting(pids["lan"])
        with open("/proc/sys/net/ipv4/ip_forward", "w") as forwarding:
            forwarding.write("1")
        run("nft", "-f", "-", stdin=DOCKER_STANDIN)
        if ruleset != "-":
            run("nft", "-f", ruleset)
        server = subprocess.Popen(inside(pids["container"], sys.executable, "-c", SERVER))
        time.sleep(0.5)
        for probe in probes:
            source, address, port = probe.split(":")
            found = run(*inside(pids[source], sys.executable, "-c", CLIENT, address, port))
            print(probe, found.strip())
    finally:
        for process in [*holders.values(), *([server] if server else [])]:
            process.kill()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
