"""The crash rule (docs/outbox.md): a message left in "sending" when the
process died is never dropped and never blindly resent. The simulated carrier
dedupes by lyrebird's reference, so such a message is requeued and sent."""
import os

import pytest

from e2e_helpers import JORDAN, unique, wait_for
import store_db


@pytest.mark.lyrebird_env(LYREBIRD_SIM_SEND_FAILURE_RATE="1",
                          LYREBIRD_OUTBOX_BACKOFF_BASE_MS="60000",
                          LYREBIRD_OUTBOX_BACKOFF_MAX_MS="60000")
def test_message_caught_in_sending_is_requeued_after_a_crash(server):
    text = unique("Caught mid-send")
    m = server.send_ok(JORDAN, text)
    wait_for(lambda: server.message(m["id"])["attempts"] >= 1,
             desc="a first (failing) attempt")
    server.stop()

    # What a crash mid-send leaves behind: the row still in "sending".
    db = store_db.connect(server)
    with db:
        db.execute("UPDATE messages SET status = 'sending' WHERE id = ?",
                   (m["id"],))
    db.close()

    server.env["LYREBIRD_SIM_SEND_FAILURE_RATE"] = "0"
    server.start()
    done = server.wait_status(m["id"], "delivered", timeout=15)
    details = [h["detail"] or "" for h in done["history"]]
    assert any("requeued after a restart" in d for d in details), done
    assert len(server.handset_with_text(JORDAN, text)) == 1
