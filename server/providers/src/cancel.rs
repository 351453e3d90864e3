//! A cloneable cancellation signal (no tokio-util dependency): the agent cancels, every stream and
//! retry sleep holding a clone wakes at once.

use std::sync::Arc;

use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct CancelToken {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for CancelToken {
    fn default() -> Self {
        Self::new()
    }
}

impl CancelToken {
    pub fn new() -> Self {
        Self {
            tx: Arc::new(watch::Sender::new(false)),
        }
    }

    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once [`CancelToken::cancel`] has been called (immediately if it already was).
    pub async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        // `wait_for` only fails when the sender is dropped, which cannot happen while we hold `self`.
        let _ = rx.wait_for(|c| *c).await;
    }
}
