"""paho-mqtt workers for bench/broker.py: the 1→1 QoS 0 case with an ordinary client library.

Same pipe protocol as `mqtt_load` (ready, then one result per phase), one paho client per
process, QoS 0 only. The publisher calls `publish()` in batches of `batch` and waits until
the last one is written (paho's outgoing queue is otherwise unbounded); in a sustained phase
it also keeps at most `e2e_window` messages not yet received by the subscriber. paho frames
every packet as its own WebSocket frame and masks it in Python.
"""

import contextlib
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from mqtt_client import KEEPALIVE_S, STAMP, Transport
from mqtt_load import Delivered, Phase, PhaseKind, PubResult, Role, SubResult, WorkerSpec, delivered_since

_DRAIN_IDLE_S = 0.5
_POLL_S = 0.0002


def paho_main(spec: WorkerSpec, pipe: Connection, delivered: Delivered) -> None:
    """Entry point of a paho worker process."""
    import paho.mqtt.client as paho  # only this comparison needs paho

    (client_spec,) = spec.clients
    ws = spec.endpoint.transport == Transport.WS
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=client_spec.client_id,
        transport="websockets" if ws else "tcp",
    )
    if ws:
        client.ws_set_options(path=spec.endpoint.path)
    client.username_pw_set(client_spec.username, client_spec.password)
    subscribed = threading.Event()

    def on_message(*_: Any) -> None:
        delivered[0] += 1

    client.on_message = on_message
    client.on_subscribe = lambda *_: subscribed.set()
    try:
        client.connect(spec.endpoint.host, spec.endpoint.port, keepalive=KEEPALIVE_S)
        client.loop_start()
        if spec.role == Role.SUB:
            client.subscribe(client_spec.topic, 1)
            if not subscribed.wait(10):
                raise TimeoutError("no SUBACK")
    except Exception as err:
        pipe.send(("error", f"{type(err).__name__}: {err}"))
        return
    pipe.send(("ready", None))
    try:
        while (phase := pipe.recv()) is not None:
            if spec.role == Role.PUB:
                pipe.send(("result", _publish(client, spec, client_spec.topic, phase, delivered)))
            else:
                pipe.send(("result", _count(delivered, phase, pipe)))
    except KeyboardInterrupt:
        pass
    finally:
        with contextlib.suppress(Exception):
            client.disconnect()
            client.loop_stop()


def _sleep_until(at_ns: int) -> None:
    time.sleep(max(0.0, (at_ns - time.monotonic_ns()) / 1e9))


def _publish(client: Any, spec: WorkerSpec, topic: str, phase: Phase, delivered: Delivered) -> PubResult:
    payload = b"x" * max(spec.payload_size, STAMP.size)
    opens, closes = phase.window_ns
    _sleep_until(phase.start_ns)
    lag = delivered_since(delivered, spec.watch[0])
    limit = spec.e2e_window - spec.batch
    sent, at_open, at_close = 0, None, 0
    while (now := time.monotonic_ns()) < closes:
        if at_open is None and now >= opens:
            at_open = sent
        if phase.kind == PhaseKind.SUSTAINED and sent - lag() > limit:
            time.sleep(_POLL_S)
            continue
        for _ in range(spec.batch):
            info = client.publish(topic, payload, 0)
        sent += spec.batch
        info.wait_for_publish(5)
    at_close = sent
    return PubResult(sent, at_close - (at_open or 0), (closes - opens) / 1e9, 0, 0)


def _count(delivered: Delivered, phase: Phase, pipe: Connection) -> SubResult:
    base = delivered[0]
    opens, closes = phase.window_ns
    _sleep_until(opens)
    at_open = delivered[0]
    _sleep_until(closes)
    at_close = delivered[0]
    target = base + pipe.recv()
    last, idle_since, deadline = -1, time.monotonic(), time.monotonic() + phase.drain_s
    while (
        delivered[0] < target
        and time.monotonic() - idle_since < _DRAIN_IDLE_S
        and time.monotonic() < deadline
    ):
        if delivered[0] != last:
            last, idle_since = delivered[0], time.monotonic()
        time.sleep(0.02)
    return SubResult(delivered[0] - base, at_close - at_open, (closes - opens) / 1e9, 0, 0)
