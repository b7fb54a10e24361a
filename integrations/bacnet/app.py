"""The hub's own BACnet application: bacpypes3's, with COV notifications routed to the hub's subscriptions."""

from collections.abc import Callable

from bacpypes3.apdu import (
    ConfirmedCOVNotificationRequest,
    IAmRequest,
    SimpleAckPDU,
    UnconfirmedCOVNotificationRequest,
)
from bacpypes3.app import Application
from bacpypes3.local.device import DeviceObject

from .network import VENDOR_ID

Notification = ConfirmedCOVNotificationRequest | UnconfirmedCOVNotificationRequest


class HubApplication(Application):
    """Answers notifications for the subscriptions `on_notification` knows; tells `on_i_am` of every I-Am."""

    on_notification: Callable[[Notification], bool] = staticmethod(lambda apdu: False)
    on_i_am: Callable[[IAmRequest], None] = staticmethod(lambda apdu: None)

    async def do_IAmRequest(self, apdu: IAmRequest) -> None:
        await super().do_IAmRequest(apdu)
        self.on_i_am(apdu)

    async def do_ConfirmedCOVNotificationRequest(self, apdu: ConfirmedCOVNotificationRequest) -> None:
        if self.on_notification(apdu):
            await self.response(SimpleAckPDU(context=apdu))
            return
        await super().do_ConfirmedCOVNotificationRequest(apdu)

    async def do_UnconfirmedCOVNotificationRequest(self, apdu: UnconfirmedCOVNotificationRequest) -> None:
        if not self.on_notification(apdu):
            await super().do_UnconfirmedCOVNotificationRequest(apdu)


def hub_device(instance: int, name: str = "BMS Hub") -> DeviceObject:
    """The hub's device object: it segments both ways and takes the largest BACnet/IP APDU."""
    return DeviceObject(
        objectIdentifier=("device", instance),
        objectName=name,
        vendorIdentifier=VENDOR_ID,
        vendorName="BMS Hub",
        modelName="bms-hub",
        maxApduLengthAccepted=1476,
        segmentationSupported="segmentedBoth",
        maxSegmentsAccepted=64,
    )
