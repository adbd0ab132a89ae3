"""Authorization and transactions of a simulated station (mixin of SimStation).

Rules (OCPP 1.6 §3.5, §4.1, §4.8, §4.10, §9.1):
- Online, an id tag is authorized by the local list first when
  LocalPreAuthorize is on, else by Authorize; the answer feeds the cache
  when AuthorizationCacheEnabled.
- Offline, LocalAuthorizeOffline lets the local list and the cache accept a
  tag; an unknown tag is accepted only with AllowOfflineTxForUnknownId.
- StartTransaction, MeterValues and StopTransaction are durable outbox
  messages; the transactionId the central system returns is bound to the
  transaction (and its TxProfiles) when the answer arrives. A StartTransaction
  answered with a non-Accepted idTagInfo stops the transaction again
  (DeAuthorized) when StopTransactionOnInvalidId.
- StopTransaction carries transactionData: the Transaction.Begin sample, the
  last periodic samples (at most 20) and the Transaction.End sample.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ocpp.v16 import call

from simulators.station.clock import iso
from simulators.station.connector import Connector, Transaction

if TYPE_CHECKING:
    from simulators.station.clock import SimClock
    from simulators.station.config import ConfigStore
    from simulators.station.profiles import ProfileStore

_MAX_SAMPLES = 20


def _status_of(id_tag_info: Any) -> str:
    if isinstance(id_tag_info, dict):
        return str(id_tag_info.get("status", "Invalid"))
    return str(getattr(id_tag_info, "status", "Invalid"))


class TransactionsMixin:
    # Provided by SimStation.
    config: ConfigStore
    profiles: ProfileStore
    clock: SimClock
    connectors: dict[int, Connector]
    ready: asyncio.Event
    _enqueue: Callable[..., asyncio.Future[Any] | None]
    _refresh_status: Callable[[Connector], None]

    def _init_transactions(self) -> None:
        self.local_list: dict[str, str] = {}  # id tag -> status
        self.local_list_version = 0
        self.auth_cache: dict[str, str] = {}
        self._local_ids = itertools.count(1)

    async def _authorize(self, id_tag: str) -> bool:
        listed = self.local_list.get(id_tag) if self.config.bool("LocalAuthListEnabled") else None
        cached = self.auth_cache.get(id_tag) if self.config.bool("AuthorizationCacheEnabled") else None
        if self.ready.is_set():
            if self.config.bool("LocalPreAuthorize") and "Accepted" in (listed, cached):
                return True
            fut = self._enqueue(lambda: call.Authorize(id_tag=id_tag), "Authorize", want_future=True)
            assert fut is not None
            try:
                res = await fut
            except (ConnectionError, TimeoutError):
                pass  # lost the connection meanwhile: decide as offline
            else:
                status = _status_of(res.id_tag_info)
                if self.config.bool("AuthorizationCacheEnabled"):
                    self.auth_cache[id_tag] = status
                return status == "Accepted"
        if self.config.bool("LocalAuthorizeOffline") and "Accepted" in (listed, cached):
            return True
        return listed is None and cached is None and self.config.bool("AllowOfflineTxForUnknownId")

    async def _authorize_and_start(self, c: Connector, id_tag: str, authorize: bool = True) -> None:
        if c.tx is not None or c.ev is None:
            return
        if authorize and not await self._authorize(id_tag):
            return
        if c.tx is None and c.ev is not None:
            self._begin_transaction(c, id_tag)

    def _begin_transaction(self, c: Connector, id_tag: str) -> Transaction:
        now = self.clock.now()
        reservation_id = None
        if c.reservation is not None and c.reservation.id_tag == id_tag:
            reservation_id, c.reservation = c.reservation.reservation_id, None
        tx = Transaction(next(self._local_ids), id_tag, int(c.meter_wh), now)
        tx.samples.append(c.sample(now, "Transaction.Begin"))
        c.tx, c.finished = tx, False
        self.profiles.start_transaction(c.id, None, now)

        def build() -> Any:
            return call.StartTransaction(
                connector_id=c.id,
                id_tag=id_tag,
                meter_start=tx.meter_start_wh,
                timestamp=iso(now),
                reservation_id=reservation_id,
            )

        def on_result(res: Any) -> None:
            tx.transaction_id = int(res.transaction_id)
            if c.tx is tx:
                self.profiles.bind_transaction_id(c.id, tx.transaction_id)
                if _status_of(res.id_tag_info) != "Accepted" and self.config.bool("StopTransactionOnInvalidId"):
                    self._end_transaction(c, "DeAuthorized")

        self._enqueue(build, "StartTransaction", durable=True, on_result=on_result)
        self._refresh_status(c)
        return tx

    def _end_transaction(self, c: Connector, reason: str) -> None:
        tx = c.tx
        if tx is None:
            return
        now = self.clock.now()
        meter_stop = int(c.meter_wh)
        tx.samples.append(c.sample(now, "Transaction.End"))
        c.tx, c.finished = None, c.ev is not None
        c.offered_a = 0.0
        self.profiles.end_transaction(c.id)
        if c.pending_inoperative:
            c.operative, c.pending_inoperative = False, False

        def build() -> Any:
            return call.StopTransaction(
                meter_stop=meter_stop,
                timestamp=iso(now),
                transaction_id=tx.transaction_id if tx.transaction_id is not None else tx.local_id,
                reason=reason,
                id_tag=tx.id_tag,
                transaction_data=tx.samples,
            )

        self._enqueue(build, "StopTransaction", durable=True)
        self._refresh_status(c)

    def _send_meter_values(self, c: Connector, context: str) -> None:
        tx = c.tx
        sample = c.sample(self.clock.now(), context)
        if tx is not None and context == "Sample.Periodic":
            tx.samples.append(sample)
            if len(tx.samples) > _MAX_SAMPLES:
                del tx.samples[1]  # keep the Transaction.Begin sample

        def build() -> Any:
            return call.MeterValues(
                connector_id=c.id,
                meter_value=[sample],
                transaction_id=None if tx is None else (tx.transaction_id or tx.local_id),
            )

        # Transaction meter values are durable; a triggered idle sample is not.
        self._enqueue(build, "MeterValues", durable=tx is not None)
