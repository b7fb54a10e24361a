"""`bms-hub bacnet doctor` checks that need no traffic, and its settings from a hub config file."""

from integrations.bacnet import command_main
from tests.integrations.bacnet.conftest import free_udp_port


def test_doctor__an_address_not_on_the_machine(capsys):
    assert command_main(["doctor", "--address", "192.0.2.7/24"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  192.0.2.7 is not an address of this machine" in out
    assert "fix: set `address:` to one of this machine's addresses" in out
    assert out.rstrip().endswith("problems found: 1")


def test_doctor__a_busy_port(capsys):
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        assert command_main(["doctor", "--address", "127.0.0.1/8", "--port", str(port)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL  UDP port {port} on 127.0.0.1 is already in use" in out


def test_doctor__settings_come_from_the_config_file_with_file_line_errors(tmp_path, capsys):
    config = tmp_path / "hub.yaml"
    config.write_text("integrations:\n  bacnet:\n    address: 10.77.0.1\n")
    assert command_main(["doctor", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{config}:3: integrations.bacnet.address: expected an IPv4 interface address with its prefix" in err
    )
    config.write_text(f"integrations:\n  bacnet:\n    address: 192.0.2.7/24\n    port: {free_udp_port()}\n")
    assert command_main(["doctor", "--config", str(config)]) == 1
    assert "192.0.2.7 is not an address of this machine" in capsys.readouterr().out
