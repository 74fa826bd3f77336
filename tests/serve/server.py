"""Starting `ringrift serve` as a real subprocess on a free loopback port (the load test's
helper, shared by the HTTP and browser tests)."""

from ringrift.serve.loadtest import free_port, running_server

__all__ = ["free_port", "running_server"]
