"""The validator process: batches of rendered files in on stdin, every finding out at the end.

Started by `Validation` for large renders. Each batch is a length-prefixed pickle of
`Rendered` files; a reading thread drains stdin so the render never waits on the pipe,
while the main thread hands batches to the same threaded `Validation` a small render uses.
Arguments: `--warm` first, when it is to pay its validators' first-file costs while it
waits for files (`WARMERS`); then, when present, the nixfmt binary the render was told to
use.
"""

from __future__ import annotations

import pickle
import queue
import sys
import threading
from typing import BinaryIO

from infragen.validate import WARM_FLAG, Rendered, Validation, warm_up
from infragen.validate.nix import use_nixfmt


def _read(stream: BinaryIO, batches: queue.Queue[list[Rendered] | None]) -> None:
    while header := stream.read(8):
        batches.put(pickle.loads(stream.read(int.from_bytes(header, "big"))))
    batches.put(None)


def main() -> None:
    arguments = sys.argv[1:]
    warm = arguments[:1] == [WARM_FLAG]
    if warm:
        arguments = arguments[1:]
    if arguments:
        use_nixfmt(arguments[0])
    batches: queue.Queue[list[Rendered] | None] = queue.Queue()
    reader = threading.Thread(target=_read, args=(sys.stdin.buffer, batches), daemon=True)
    reader.start()
    if warm:
        warm_up()
    validation = Validation(worker_after=None)
    while (batch := batches.get()) is not None:
        validation.submit(batch)
    sys.stdout.buffer.write(pickle.dumps(validation.finish()))


if __name__ == "__main__":
    main()
