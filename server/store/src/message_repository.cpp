#include <sipsite/store/message_repository.hpp>

namespace sipsite::store {

namespace {

constexpr std::string_view kInfoColumns = "id, recipient, sender_aor, content_type, size, created_at";

StoredMessageInfo read_info(const Statement& s) {
  return StoredMessageInfo{s.integer(0), s.text(1), s.text(2), s.text(3), s.integer(4), s.integer(5)};
}

Result<std::int64_t> scalar(Result<Statement> stmt) {
  auto v = first_row(std::move(stmt), [](const Statement& s) { return s.integer(0); });
  if (!v) return v.error();
  return v->value_or(0);
}

}  // namespace

Result<std::int64_t> MessageRepository::store(const NewMessage& m) {
  const auto size = static_cast<std::int64_t>(m.body.size());
  if (size > limits_.max_body_bytes) {
    return Error{Errc::invalid, "message body of " + std::to_string(size) + " bytes is over the limit of " +
                                    std::to_string(limits_.max_body_bytes)};
  }
  std::int64_t id = 0;
  auto r = db_.transaction([&]() -> Result<void> {
    auto mine = first_row(
        db_.query("SELECT count(*), coalesce(sum(size), 0) FROM stored_messages WHERE recipient = ?", m.recipient),
        [](const Statement& s) { return std::pair(s.integer(0), s.integer(1)); });
    if (!mine) return mine.error();
    const auto [count, bytes] = mine->value_or(std::pair<std::int64_t, std::int64_t>(0, 0));
    if (count + 1 > limits_.per_user_count) {
      return Error{Errc::full, "the mailbox of " + m.recipient + " is full (" + std::to_string(count) + " messages)"};
    }
    if (bytes + size > limits_.per_user_bytes) {
      return Error{Errc::full, "the mailbox of " + m.recipient + " is full (" + std::to_string(bytes) + " bytes)"};
    }
    auto total = scalar(db_.prepare("SELECT coalesce(sum(size), 0) FROM stored_messages"));
    if (!total) return total.error();
    if (*total + size > limits_.total_bytes) return Error{Errc::full, "the site's message store is full"};
    auto insert = db_.prepare(
        "INSERT INTO stored_messages (recipient, sender_aor, content_type, body, size, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    if (!insert) return insert.error();
    insert->bind(1, std::string_view(m.recipient))
        .bind(2, std::string_view(m.sender_aor))
        .bind(3, std::string_view(m.content_type))
        .bind_blob(4, m.body)
        .bind(5, size)
        .bind(6, m.created_at);
    if (auto done = insert->step(); !done) return done.error();
    auto last = scalar(db_.prepare("SELECT last_insert_rowid()"));
    if (!last) return last.error();
    id = *last;
    return {};
  });
  if (!r) return r.error();
  return id;
}

Result<std::vector<StoredMessage>> MessageRepository::queued_for(std::string_view recipient, int limit) {
  return collect_rows(db_.query("SELECT id, recipient, sender_aor, content_type, size, created_at, body "
                                "FROM stored_messages WHERE recipient = ? ORDER BY id LIMIT ?",
                                recipient, limit),
                      [](const Statement& s) {
                        return StoredMessage{read_info(s), s.blob(6)};
                      });
}

Result<std::vector<std::string>> MessageRepository::recipients() {
  return collect_rows(db_.query("SELECT DISTINCT recipient FROM stored_messages"),
                      [](const Statement& s) { return s.text(0); });
}

Result<void> MessageRepository::delivered(std::int64_t id) {
  auto r = db_.execute("DELETE FROM stored_messages WHERE id = ?", id);
  if (!r) return r.error();
  return {};
}

Result<std::vector<StoredMessageInfo>> MessageRepository::list(std::string_view recipient, std::int64_t offset,
                                                               std::int64_t limit) {
  return collect_rows(db_.query("SELECT " + std::string(kInfoColumns) +
                                    " FROM stored_messages WHERE (?1 = '' OR recipient = ?1) "
                                    "ORDER BY id DESC LIMIT ?2 OFFSET ?3",
                                recipient, limit, offset),
                      read_info);
}

Result<std::int64_t> MessageRepository::count(std::string_view recipient) {
  return scalar(db_.query("SELECT count(*) FROM stored_messages WHERE (?1 = '' OR recipient = ?1)", recipient));
}

Result<int> MessageRepository::purge_before(std::int64_t before, int batch) {
  return db_.execute(
      "DELETE FROM stored_messages WHERE id IN "
      "(SELECT id FROM stored_messages WHERE created_at < ? ORDER BY created_at LIMIT ?)",
      before, batch);
}

Result<int> MessageRepository::remove_for_recipient(std::string_view recipient) {
  return db_.execute("DELETE FROM stored_messages WHERE recipient = ?", recipient);
}

}  // namespace sipsite::store
