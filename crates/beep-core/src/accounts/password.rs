//! Password hashing with argon2id on a bounded pool of blocking threads, so a
//! flood of logins queues instead of starving every other request.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// argon2id parameters (OWASP's minimum: 19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        HashParams {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Hashes and verifies passwords, at most `permits` at a time.
#[derive(Clone)]
pub struct PasswordHasherPool {
    params: HashParams,
    permits: Arc<Semaphore>,
}

/// Outcome of a verification.
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    /// Wrong password.
    No,
    /// Right password.
    Yes,
    /// Right password, hashed with old parameters: store this new hash.
    YesRehash(String),
}

impl PasswordHasherPool {
    /// A pool running at most `concurrency` hashes at once.
    pub fn new(params: HashParams, concurrency: usize) -> Self {
        PasswordHasherPool {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    fn argon(params: HashParams) -> Result<Argon2<'static>> {
        let p = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(Error::internal)?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
    }

    /// Hash a password into a PHC string.
    pub async fn hash(&self, password: String) -> Result<String> {
        let params = self.params;
        let _permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(Error::internal)?;
        tokio::task::spawn_blocking(move || hash_now(params, &password))
            .await
            .map_err(Error::internal)?
    }

    /// Check a password against a stored PHC string.
    pub async fn verify(&self, password: String, stored: String) -> Result<Verified> {
        let params = self.params;
        let _permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(Error::internal)?;
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&stored).map_err(Error::internal)?;
            if Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_err()
            {
                return Ok(Verified::No);
            }
            let current = Params::try_from(&parsed).ok();
            let same = current.is_some_and(|p| {
                p.m_cost() == params.memory_kib
                    && p.t_cost() == params.iterations
                    && p.p_cost() == params.parallelism
            }) && parsed.algorithm.as_str() == "argon2id";
            if same {
                Ok(Verified::Yes)
            } else {
                Ok(Verified::YesRehash(hash_now(params, &password)?))
            }
        })
        .await
        .map_err(Error::internal)?
    }
}

fn hash_now(params: HashParams, password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(Error::internal)?;
    let hash = PasswordHasherPool::argon(params)?
        .hash_password(password.as_bytes(), &salt)
        .map_err(Error::internal)?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_verify_and_rehash() {
        let cheap = HashParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let pool = PasswordHasherPool::new(cheap, 2);
        let h = pool.hash("correct horse".into()).await.expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert_eq!(
            pool.verify("correct horse".into(), h.clone())
                .await
                .expect("verify"),
            Verified::Yes
        );
        assert_eq!(
            pool.verify("wrong".into(), h.clone())
                .await
                .expect("verify"),
            Verified::No
        );
        let stronger = PasswordHasherPool::new(
            HashParams {
                memory_kib: 2048,
                ..cheap
            },
            1,
        );
        match stronger
            .verify("correct horse".into(), h)
            .await
            .expect("verify")
        {
            Verified::YesRehash(n) => assert!(n.contains("m=2048")),
            other => panic!("expected rehash, got {other:?}"),
        }
    }
}
