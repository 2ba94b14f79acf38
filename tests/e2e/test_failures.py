"""When the carrier fails, staff see why."""
import re
import time

import pytest

from e2e_helpers import JORDAN, statuses, unique


@pytest.mark.lyrebird_env(LYREBIRD_SIM_SEND_FAILURE_RATE="1",
                          LYREBIRD_OUTBOX_MAX_ATTEMPTS="3",
                          LYREBIRD_OUTBOX_BACKOFF_BASE_MS="50",
                          LYREBIRD_OUTBOX_BACKOFF_MAX_MS="200")
def test_carrier_503_ends_failed_after_max_attempts(server):
    text = unique("Carrier down")
    m = server.send_ok(JORDAN, text)
    f = server.wait_status(m["id"], "failed", timeout=15)
    assert f["attempts"] == 3, f
    err = f["error"]
    assert isinstance(err, dict), f
    assert isinstance(err.get("code"), str) and err["code"], err
    assert isinstance(err.get("retryable"), bool), err
    assert isinstance(err.get("message"), str) and err["message"].strip(), err
    assert re.search(r"503|unavailable", err["message"], re.I), err
    hist = statuses(f)
    assert hist.count("sending") >= 2, "history shows one attempt: %r" % hist
    assert hist[0] == "queued" and hist[-1] == "failed", hist
    # Stays failed: no further attempts.
    time.sleep(0.5)
    again = server.message(m["id"])
    assert again["status"] == "failed" and again["attempts"] == 3, again
    assert server.handset_with_text(JORDAN, text) == []


@pytest.mark.lyrebird_env(LYREBIRD_SIM_DR_FAILURE_RATE="1")
def test_delivery_failure_is_undelivered_with_reason(server):
    m = server.send_ok(JORDAN, unique("Phone off"))
    u = server.wait_status(m["id"], "undelivered")
    err = u["error"]
    assert isinstance(err, dict), u
    assert isinstance(err.get("message"), str) and err["message"].strip(), u
    hist = statuses(u)
    assert hist[0] == "queued" and hist[-1] == "undelivered", hist
    assert "sending" in hist, hist
