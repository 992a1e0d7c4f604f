"""Facts of the real tools the compose role meets on a host, read from their sources.

Neither an engine running these images nor compose v2 is on this machine, so the role is
judged against what their sources say, each fact naming where it was read.
"""

from __future__ import annotations

# The user an image's process runs as, from its Dockerfile's USER line. A file the role
# bind-mounts into such a container must be readable by that user, who is neither the
# file's owner (root) nor in its group.
IMAGE_USERS = {
    # prometheus/prometheus, Dockerfile at b5c61f3e9a36ed399da703f2ca4c9771db78c328:
    #   RUN ... chown -R nobody:nogroup etc/prometheus /prometheus
    #   USER       nobody
    # (later Dockerfiles keep `USER nobody`, with `chown -R nobody:nobody`).
    "prom/prometheus": "nobody",
}

# docker/compose, pkg/api/event.go at 00f84f35f7dd92107c38c57f4e63b1de4c77487c: the status
# texts of progress events ("Status texts are stable identifiers: tools may match on
# them"), and pkg/compose/convergence.go at 0056225b015790a920fd44d5b80a4449e2d9deb1:
# "Recreate"/"Recreated" for a replaced container, "Restart"/"Restarted" for one started
# again, "Running" for a container left as it was. Working statuses mean compose is acting
# on a resource; an unchanged stack prints only the statuses in UNCHANGED.
ACTING = (
    "Creating",
    "Starting",
    "Restarting",
    "Restart",
    "Recreate",
    "Stopping",
    "Killing",
    "Removing",
)
DONE_AFTER_ACTING = ("Created", "Started", "Restarted", "Recreated", "Stopped", "Killed", "Removed")
UNCHANGED = ("Running", "Waiting", "Healthy", "Exited")
# Pulling an image the service already runs changes nothing that runs: not a change.
PULLS = ("Pulling", "Pulled")

# The plain progress form (docker/compose pkg/progress/plain.go at
# 2336d9fe35714f6d5f73e9e9762cd4ff3475b18e: Fprintln(out, prefix, ID, Text, StatusText), so
# an empty prefix and Text give a leading space and two spaces), as printed by compose
# v2 in elastic/elastic-package pull request #1628 (2024-01-18, `--progress=plain down`):
PLAIN_DOWN_SAMPLE = """\
 Container dockertest-ubuntu-1  Stopping
 Container dockertest-ubuntu-1  Stopped
 Container dockertest-ubuntu-1  Removing
 Container dockertest-ubuntu-1  Removed
 Network dockertest_default  Removing
 Network dockertest_default  Removed
"""
# The same event as compose v5 prints it (docker/compose cmd/display/plain.go at
# 2b4543935c092f2a9178121bc56e7b86c6b36bf6: Fprintln(out, prefix, ID, Text, Details), the
# status now in Text and Details empty): one space before the status, one after.
PLAIN_V5_LINE = " Container grafana Recreate \n"
