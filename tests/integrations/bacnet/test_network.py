"""The bind check: a busy port or a foreign address fails at once with what to fix, instead of hanging."""

import ipaddress
import socket

import pytest

from integrations.bacnet.network import BindError, Endpoint, check_bind
from tests.integrations.bacnet.conftest import free_udp_port


def test_check_bind__a_port_held_by_another_socket():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        with pytest.raises(BindError, match=rf"UDP port {port} on 127\.0\.0\.1 is already in use"):
            check_bind(Endpoint(ipaddress.IPv4Interface("127.0.0.1/32"), port))


def test_check_bind__a_port_held_with_so_reuseport_as_bacpypes3_binds():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        with pytest.raises(BindError, match="already in use"):
            check_bind(Endpoint(ipaddress.IPv4Interface("127.0.0.1/32"), port))


def test_check_bind__an_address_not_on_this_machine():
    # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real interface.
    with pytest.raises(BindError, match=r"192\.0\.2\.7 is not an address of this machine"):
        check_bind(Endpoint(ipaddress.IPv4Interface("192.0.2.7/24"), free_udp_port()))


def test_check_bind__a_free_port_is_left_free():
    endpoint = Endpoint(ipaddress.IPv4Interface("127.0.0.1/32"), free_udp_port())
    check_bind(endpoint)
    check_bind(endpoint)


def test_endpoint__broadcast_is_the_subnet_s():
    endpoint = Endpoint(ipaddress.IPv4Interface("10.77.0.1/24"), 47808)
    assert (endpoint.address, endpoint.broadcast) == ("10.77.0.1/24:47808", "10.77.0.255:47808")
