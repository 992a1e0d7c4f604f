"""Facts of the real tools the compose role meets on a host, read from their sources.

No engine runs these images here, so the role is judged
against what their sources say, each fact naming where it was read.
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
