// A fixed-size pool of PostgreSQL connections shared by the store's threads: opened on demand,
// handed out one thread at a time, replaced when the server closed them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "store/postgres/connection.hpp"

namespace pg::store::postgres {

class ConnectionPool {
 public:
  /// At most `size` connections, each with `prepare` prepared; none opened yet.
  ConnectionPool(ConnectionSettings settings, std::size_t size,
                 std::chrono::milliseconds acquire_timeout, std::vector<const Statement*> prepare);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// A connection for one thread until the lease goes; it goes back to the pool then, or is
  /// closed when it is not idle (a transaction left open, the server gone).
  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<Connection> connection)
        : pool_(&pool), connection_(std::move(connection)) {}
    ~Lease();
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    Connection& operator*() const noexcept { return *connection_; }
    Connection* operator->() const noexcept { return connection_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> connection_;
  };

  /// An idle connection that is still healthy (a broken one is closed and replaced), or a new one
  /// while fewer than `size` are open; else waits up to acquire_timeout for one to come back.
  /// Throws PostgresError naming `operation` on timeout or when a new connection fails.
  Lease acquire(std::string_view operation);

 private:
  void release(std::unique_ptr<Connection> connection) noexcept;

  const ConnectionSettings settings_;
  const std::size_t size_;
  const std::chrono::milliseconds acquire_timeout_;
  const std::vector<const Statement*> prepare_;

  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;  // most recently returned last
  std::size_t open_ = 0;                           // idle + leased + being opened
};

}  // namespace pg::store::postgres
