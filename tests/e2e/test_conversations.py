"""Conversation list order and message paging."""
from e2e_helpers import CLINIC, JORDAN, PRIYA, unique, wait_for


def test_conversations_newest_activity_first(server):
    a = server.send_ok(JORDAN, unique("to Jordan"))
    server.wait_status(a["id"], "delivered")
    b = server.send_ok(PRIYA, unique("to Priya"))
    server.wait_status(b["id"], "delivered")
    convs = server.conversations()
    order = [c["patient"] for c in convs]
    assert order.index(PRIYA) < order.index(JORDAN), order
    for c in convs:
        assert c["number"] == CLINIC
        assert isinstance(c["unread"], int)

    text = unique("Jordan replies")
    server.handset_send(JORDAN, text)
    wait_for(lambda: server.conversation(JORDAN)["last_message"]["text"] == text,
             desc="Jordan's reply as last message")
    order = [c["patient"] for c in server.conversations()]
    assert order.index(JORDAN) < order.index(PRIYA), order


def test_conversation_messages_paging(server):
    ids = []
    for i in range(5):
        m = server.send_ok(JORDAN, unique("page %d" % i))
        ids.append(m["id"])
    for mid in ids:
        server.wait_status(mid, "delivered")

    all_msgs = server.conv_messages(JORDAN)
    got = [m["id"] for m in all_msgs]
    assert got[-5:] == ids, "not oldest first: %r vs sent %r" % (got, ids)
    times = [m["created_at"] for m in all_msgs]
    assert times == sorted(times), times

    newest2 = [m["id"] for m in server.conv_messages(JORDAN, limit=2)]
    assert newest2 == ids[3:], (newest2, ids)
    older = [m["id"] for m in server.conv_messages(JORDAN, limit=2, before=ids[3])]
    assert older == ids[1:3], (older, ids)
    oldest = [m["id"] for m in server.conv_messages(JORDAN, limit=2, before=ids[1])]
    assert oldest[-1:] == ids[:1] and ids[0] in oldest, (oldest, ids)


def test_unknown_patient_conversation_is_empty_or_404(server):
    r = server.api("GET", "/api/v1/conversations/+61491570199/messages")
    assert r.status_code in (200, 404), r.text
    if r.status_code == 200:
        assert r.json()["messages"] == []
