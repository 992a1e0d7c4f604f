"""drift: a read-only comparison of the live estate with what the inventory says.

Three checks, each of which only asks: DNS (each zone's nameservers, by zone transfer
where allowed, else record by record), ports (a TCP connect to every port the inventory
opens on each active host, and to the ports it keeps closed) and health (each health
check that can be reached from here). Planned hosts and services are not live yet: they
are skipped, and said so. Nothing is ever changed.
"""
