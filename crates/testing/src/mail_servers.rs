//! Real mail servers on loopback ports for the mail tests: Python's
//! `aiosmtpd` (Debian's `python3-aiosmtpd`) writing what it receives to a
//! Maildir, and Dovecot (`dovecot-imapd`) serving a Maildir over IMAP, each
//! configured in a temporary folder and stopped when dropped. `.ci/run`
//! installs both packages.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Python that has Debian's aiosmtpd (not a pyenv or venv one).
const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("an address").port()
}

fn wait_for_port(port: u16, what: &str, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let output = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{what} exited ({status}) before listening on {port}:\n{output}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on port {port} within 20 s");
}

/// Waits until aiosmtpd greets on `port`. Something else answering there
/// (the port was taken after it was picked) does not count: aiosmtpd then
/// fails to bind and exits, and the caller hears why.
fn wait_for_greeting(port: u16, child: &mut Child, log: &Path) -> Result<(), String> {
    use std::io::Read;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            let output = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!("aiosmtpd exited ({status}) before listening on {port}:\n{output}"));
        }
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let mut greeting = [0u8; 3];
            let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
            if stream.read_exact(&mut greeting).is_ok() && &greeting == b"220" {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("aiosmtpd did not greet on port {port} within 20 s"))
}

/// Stops a server politely (SIGTERM lets Dovecot stop its children), then for good.
fn stop(child: &mut Child) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The messages in a Maildir's `new` and `cur` folders, oldest first.
fn maildir_messages(maildir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for folder in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(maildir.join(folder)) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let modified = entry.metadata().and_then(|m| m.modified()).ok();
            if let Ok(text) = std::fs::read_to_string(&path) {
                found.push((modified, path, text));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    found.into_iter().map(|(_, path, text)| (path, text)).collect()
}

/// An SMTP server that accepts everything into a Maildir, or refuses every recipient.
pub struct SmtpServer {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl SmtpServer {
    /// Accepts every message.
    pub fn start() -> SmtpServer {
        Self::on_a_free_port(false)
    }

    /// Answers every recipient with `550 5.1.1 mailbox unavailable`.
    pub fn refusing() -> SmtpServer {
        Self::on_a_free_port(true)
    }

    /// A port that was free when picked may be taken (by another test's
    /// server) before aiosmtpd binds it: then it tries another.
    fn on_a_free_port(refuse: bool) -> SmtpServer {
        let mut failures = Vec::new();
        for _ in 0..5 {
            match Self::spawn(free_port(), refuse) {
                Ok(server) => return server,
                Err(failed) => failures.push(failed),
            }
        }
        panic!("aiosmtpd did not start on five ports:\n{}", failures.join("\n"));
    }

    /// Accepts every message, on a given port (a server that comes up late).
    pub fn on_port(port: u16, refuse: bool) -> SmtpServer {
        Self::spawn(port, refuse).unwrap_or_else(|failed| panic!("{failed}"))
    }

    fn spawn(port: u16, refuse: bool) -> Result<SmtpServer, String> {
        assert!(
            Path::new(SYSTEM_PYTHON).exists(),
            "{SYSTEM_PYTHON} is missing: install python3-aiosmtpd (.ci/run does)"
        );
        let dir = tempfile::tempdir().expect("a temporary directory");
        let maildir = dir.path().join("Maildir");
        let handler = if refuse {
            std::fs::write(
                dir.path().join("refuse_all.py"),
                "class RefuseAll:\n    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):\n        return '550 5.1.1 mailbox unavailable'\n",
            )
            .expect("write the refusing handler");
            vec!["refuse_all.RefuseAll".to_owned()]
        } else {
            vec!["aiosmtpd.handlers.Mailbox".to_owned(), maildir.display().to_string()]
        };
        let log = dir.path().join("smtpd.log");
        let mut child = Command::new(SYSTEM_PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c"])
            .args(&handler)
            .env("PYTHONPATH", dir.path())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).expect("a log file"))
            .stderr(std::fs::File::create(dir.path().join("smtpd.err")).expect("a log file"))
            .spawn()
            .unwrap_or_else(|err| panic!("start aiosmtpd (python3-aiosmtpd): {err}"));
        match wait_for_greeting(port, &mut child, &dir.path().join("smtpd.err")) {
            Ok(()) => Ok(SmtpServer { port, dir, child }),
            Err(failed) => {
                stop(&mut child);
                Err(failed)
            }
        }
    }

    /// Every message received so far, as raw text.
    pub fn received(&self) -> Vec<String> {
        maildir_messages(&self.dir.path().join("Maildir")).into_iter().map(|(_, text)| text).collect()
    }

    /// Waits up to `within` for the `count`th message.
    pub fn wait_for(&self, count: usize, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() > deadline {
                return received;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// A Dovecot IMAP server with one mailbox user, plain sign-in on loopback.
pub struct ImapServer {
    pub port: u16,
    pub user: String,
    pub password: String,
    dir: tempfile::TempDir,
    child: Child,
}

impl ImapServer {
    pub fn start(user: &str, password: &str) -> ImapServer {
        let dovecot = ["/usr/sbin/dovecot", "/usr/bin/dovecot"].into_iter().find(|p| Path::new(p).exists());
        let dovecot = dovecot.expect("dovecot is missing: install dovecot-imapd (.ci/run does)");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path();
        for sub in ["run", "state", "home"] {
            std::fs::create_dir_all(root.join(sub)).expect("create a folder");
        }
        // Dovecot refuses to serve mail as root: the mailbox belongs to
        // `nobody` when the tests run as root (as CI does), else to the tester.
        let (uid, gid) = match current_ids() {
            (0, _) => (65534, 65534),
            ids => ids,
        };
        let maildir = Self::maildir_of(root, user);
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).expect("create the Maildir");
        }
        open_up(&root.join("home"));
        std::fs::write(root.join("passwd"), format!("{user}:{{PLAIN}}{password}\n")).expect("write passwd");
        let port = free_port();
        let root_text = root.display();
        let config = format!(
            "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {root_text}/run\nstate_dir = {root_text}/state\n\
             log_path = {root_text}/dovecot.log\nssl = no\ndisable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             first_valid_uid = 0\nmail_location = maildir:~/Maildir\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {root_text}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={root_text}/home/%u\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  \
             inet_listener imaps {{\n    port = 0\n  }}\n}}\n"
        );
        let config_path = root.join("dovecot.conf");
        std::fs::write(&config_path, config).expect("write dovecot.conf");
        let log = root.join("dovecot.out");
        let mut child = Command::new(dovecot)
            .arg("-F")
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).expect("a log file"))
            .stderr(std::fs::File::create(root.join("dovecot.err")).expect("a log file"))
            .spawn()
            .unwrap_or_else(|err| panic!("start dovecot: {err}"));
        wait_for_port(port, "dovecot", &mut child, &root.join("dovecot.err"));
        ImapServer { port, user: user.to_owned(), password: password.to_owned(), dir, child }
    }

    fn maildir_of(root: &Path, user: &str) -> PathBuf {
        root.join("home").join(user).join("Maildir")
    }

    /// Puts a message in the mailbox, as a mail server delivering it would.
    pub fn deliver(&self, raw: &str) {
        let maildir = Self::maildir_of(self.dir.path(), &self.user);
        let name = format!("{}.rapport-test", uuid::Uuid::now_v7().simple());
        let temporary = maildir.join("tmp").join(&name);
        std::fs::write(&temporary, raw).expect("write a message");
        open_up(&temporary);
        std::fs::rename(&temporary, maildir.join("new").join(&name)).expect("deliver the message");
    }

    /// How many messages the mailbox holds with the \Seen flag.
    pub fn seen(&self) -> usize {
        let maildir = Self::maildir_of(self.dir.path(), &self.user);
        maildir_messages(&maildir)
            .iter()
            .filter(|(path, _)| {
                path.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.split_once(":2,"))
                    .is_some_and(|(_, f)| f.contains('S'))
            })
            .count()
    }
}

impl Drop for ImapServer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

fn current_ids() -> (u32, u32) {
    let id = |flag: &str| {
        Command::new("id")
            .arg(flag)
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    };
    (id("-u"), id("-g"))
}

/// Lets the mailbox's owner (`nobody` under root) read and write what the test made.
fn open_up(path: &Path) {
    let status = Command::new("chmod").arg("-R").arg("a+rwX").arg(path).status().expect("run chmod");
    assert!(status.success(), "chmod {path:?}");
}
