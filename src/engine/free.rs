//! Freeing large data sets off the critical path.

/// Drops `value` on a thread of its own: millions of rows (each with its own
/// allocations) take a noticeable time to free one by one — about a second at 1M
/// contacts — and nothing needs to wait for it. A process that ends does not wait for
/// the thread either.
pub fn drop_later<T: Send + 'static>(value: T) {
    // Without a thread to be had, the value is dropped here, with the closure.
    let _ = std::thread::Builder::new()
        .name("funnel-free".into())
        .spawn(move || drop(value));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Says on a channel when it is dropped.
    struct Tell(mpsc::Sender<()>);

    impl Drop for Tell {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }

    #[test]
    fn the_value_is_dropped_on_another_thread() {
        let (tx, rx) = mpsc::channel();
        drop_later(Tell(tx));
        assert!(rx.recv_timeout(Duration::from_secs(30)).is_ok());
    }
}
