"""SIGINT/SIGTERM during training: finish the step, save an emergency checkpoint, stop."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any


class StopFlag:
    """SIGINT/SIGTERM set a flag; the loop saves an emergency checkpoint at the next step."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now
        self.signum = signum
        print(f"\n{signal.Signals(signum).name}: saving an emergency checkpoint after this step",
              file=sys.stderr)
