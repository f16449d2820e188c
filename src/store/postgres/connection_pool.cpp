// The PostgreSQL connection pool: LIFO reuse (the most recently used connection is the warmest),
// connections opened outside the lock, broken ones replaced on the next acquire.
#include "store/postgres/connection_pool.hpp"

#include <string>
#include <utility>

namespace pg::store::postgres {

ConnectionPool::ConnectionPool(ConnectionSettings settings, std::size_t size,
                               std::chrono::milliseconds acquire_timeout,
                               std::vector<const Statement*> prepare)
    : settings_(std::move(settings)),
      size_(size),
      acquire_timeout_(acquire_timeout),
      prepare_(std::move(prepare)) {
  if (size_ == 0) fail("open", "pool_size must be at least 1");
}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease::~Lease() {
  if (connection_ != nullptr) pool_->release(std::move(connection_));
}

ConnectionPool::Lease ConnectionPool::acquire(std::string_view operation) {
  const auto deadline = std::chrono::steady_clock::now() + acquire_timeout_;
  std::unique_lock lock(mutex_);
  while (true) {
    while (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      if (connection->healthy()) return Lease(*this, std::move(connection));
      --open_;  // closed by the server while idle: drop it, open a fresh one below
      lock.unlock();
      connection.reset();
      lock.lock();
    }
    if (open_ < size_) {
      ++open_;
      lock.unlock();
      try {
        return Lease(*this, Connection::open(settings_, prepare_));
      } catch (...) {
        lock.lock();
        --open_;
        returned_.notify_one();
        throw;
      }
    }
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= size_) {
      fail(operation, "no database connection came free within " +
                          std::to_string(acquire_timeout_.count()) + " ms (pool of " +
                          std::to_string(size_) + ")");
    }
  }
}

void ConnectionPool::release(std::unique_ptr<Connection> connection) noexcept {
  const bool reusable = connection->idle();
  if (!reusable) connection.reset();  // outside the lock: closing may write to the socket
  {
    std::lock_guard lock(mutex_);
    if (reusable) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;
    }
  }
  returned_.notify_one();
}

}  // namespace pg::store::postgres
