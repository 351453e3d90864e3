;;; test-jingu.el --- emacs --batch e2e of editors/emacs/jingu.el against the real jingu  -*- lexical-binding: t; -*-
;; Env: JINGU_PLUGIN (editors/emacs), JINGU_BIN, FX_WS (workspace copy).
(package-initialize)
(require 'cl-lib)
(require 'eglot)
(add-to-list 'load-path (getenv "JINGU_PLUGIN"))
(require 'jingu)

(defvar passed 0)
(defvar failed 0)
(defmacro deftest (name &rest body)
  `(condition-case err
       (progn ,@body (cl-incf passed) (princ (format "ok - emacs: %s\n" ,name)))
     (error (cl-incf failed) (princ (format "not ok - emacs: %s\n  %S\n" ,name err)))))
(defun check (cond what) (unless cond (error "check failed: %s" what)))

;; The README's recipe: Debian 12's Emacs 28 gets rust-mode from elpa-rust-mode (installed by
;; scripts/editors-install.sh); Emacs 29+ may use rust-ts-mode instead.
(require 'rust-mode)
(setq jingu-server-path (getenv "JINGU_BIN")
      eglot-confirm-server-initiated-edits nil
      eglot-sync-connect t
      make-backup-files nil
      create-lockfiles nil)
(jingu-eglot-setup)

(defvar ws (file-name-as-directory (getenv "FX_WS")))
(find-file (concat ws "src/lib.rs"))
(defvar original (buffer-string))
(defvar lib-buffer (current-buffer))
(defvar server nil)
(defun expected-after-ask ()
  "The fixture with greet (its doc comment and body, lines 3-6) replaced as scripted."
  (replace-regexp-in-string
   (regexp-quote "/// Greets in French: « bonjour ».\npub fn greet(name: &str) -> String {\n    format!(\"bonjour {name}\")\n}\n")
   "/// Greets informally: « salut ».\npub fn greet(name: &str) -> String {\n    format!(\"salut {name} 👋\")\n}\n"
   original t t))
(defvar prompts nil)

(deftest "eglot connects to jingu lsp"
  (apply #'eglot (eglot--guess-contact))
  (setq server (eglot-current-server))
  (check (and server (jsonrpc-running-p server)) "server running")
  (check (equal (plist-get (eglot--server-info server) :name) "jingu") (eglot--server-info server)))

(defun find-symbol (list name)
  (cl-loop for s across list
           thereis (if (equal (plist-get s :name) name) s
                     (and (plist-get s :children) (find-symbol (plist-get s :children) name)))))

(deftest "documentSymbol over eglot is hierarchical with name paths and utf-16 columns"
  (let* ((syms (jsonrpc-request server :textDocument/documentSymbol
                                `(:textDocument ,(eglot--TextDocumentIdentifier))))
         (bump (find-symbol syms "bump"))
         (tail (find-symbol syms "tail")))
    (check bump "bump nested under Counter")
    (check (string-match-p "bump" (plist-get bump :detail)) (plist-get bump :detail))
    ;; eglot 1.9 offers no positionEncodings: the server must fall back to utf-16, where
    ;; "/* é中😀 */ pub fn " is 18 code units (23 bytes).
    (check (= 18 (plist-get (plist-get (plist-get tail :selectionRange) :start) :character))
           (plist-get tail :selectionRange))))

(deftest "imenu lists the symbols through eglot"
  (let ((index (funcall imenu-create-index-function)))
    (check (cl-some (lambda (e) (string-match-p "greet" (format "%S" e))) index) index)))

(defun wait-for (what pred &optional secs)
  "Process events until PRED holds (error naming WHAT after SECS, default 60)."
  (with-timeout ((or secs 60) (error "timed out waiting for %s" what))
    (while (not (funcall pred)) (accept-process-output nil 0.05))))

(deftest "the buffer is in rust-mode"
  (check (derived-mode-p 'rust-mode) major-mode))

(deftest "jingu-ask runs asynchronously, shows progress in the mode line and edits after Apply"
  (goto-char (point-min))
  (search-forward "bonjour {name}")
  (let (done result shown)
    ;; Every value the mode line takes, not a poll of it: several `$/progress' notifications
    ;; (the last one "finishing") can be handled within one `accept-process-output'.
    (let ((record (lambda (&rest _) (push jingu-mode-line shown))))
      (advice-add 'jingu--set-mode-line :after record)
      (unwind-protect
          (cl-letf (((symbol-function 'completing-read)
                     (lambda (prompt &rest _) (push prompt prompts) "Apply")))
            (jingu-ask "make greet informal" (lambda (err r) (setq done t result (or err r))))
            ;; jingu-ask returned at once: Emacs is free while the run goes on.
            (check (not done) "jingu-ask returned before the run ended")
            (check (string-prefix-p " Jingu: " jingu-mode-line) jingu-mode-line)
            (check (member '(:eval jingu-mode-line) global-mode-string) global-mode-string)
            (wait-for "the ask" (lambda () done)))
        (advice-remove 'jingu--set-mode-line record)))
    (check (cl-some (lambda (m) (string-match-p "step\\|streaming\\|edit" m)) shown)
           (format "the mode line showed the run's progress: %S" (reverse shown)))
    (check (equal jingu-mode-line "") jingu-mode-line)
    (check (= 1 (length (plist-get result :edits))) result)
    (check (equal (buffer-string) (expected-after-ask)) (buffer-string))
    (check (string-match-p "salut" (car prompts)) prompts)
    (check (equal (plist-get (jingu-ask-args "x") :symbol) "greet") (jingu-ask-args "x"))))

(deftest "jingu-snapshots points at the changed line; jingu-snapshot-diff opens a diff-mode buffer"
  (let* ((snaps (jingu-snapshots))
         (text (with-current-buffer "*jingu-snapshots*" (buffer-string))))
    (check (>= (length snaps) 1) snaps)
    ;; greet's doc comment (line 3) is the first changed line, not line 1.
    (check (string-prefix-p (concat ws "src/lib.rs:3: ") text) text)
    (let ((b (jingu-snapshot-diff (plist-get (aref snaps 0) :id))))
      (with-current-buffer b
        (check (derived-mode-p 'diff-mode) major-mode)
        (check (string-match-p (regexp-quote "+    format!(\"salut {name} 👋\")") (buffer-string))
               (buffer-string))))))

(deftest "jingu-rollback of a saved, open buffer: no \"changed on disk\" prompt, save writes it"
  ;; The user saved the agent's edit; a rollback rewriting the file on disk would now make Emacs
  ;; ask about the file having changed on disk.
  (set-buffer lib-buffer)
  (check (equal (buffer-string) (expected-after-ask)) "the agent's edit is in the buffer")
  (save-buffer)
  (let ((modtime (file-attribute-modification-time (file-attributes buffer-file-name)))
        (asked nil))
    (sleep-for 1.1)
    (cl-letf (((symbol-function 'ask-user-about-supersession-threat)
               (lambda (&rest a) (push (cons 'supersession a) asked)))
              ((symbol-function 'yes-or-no-p) (lambda (p) (push p asked) nil))
              ((symbol-function 'y-or-n-p) (lambda (p) (push p asked) nil)))
      (jingu-rollback "run")
      (check (equal (buffer-string) original) (buffer-string))
      (check (equal modtime (file-attribute-modification-time (file-attributes buffer-file-name)))
             "the file on disk was not rewritten behind the buffer")
      (check (verify-visited-file-modtime (current-buffer)) "Emacs sees no change on disk")
      (save-buffer)
      (check (null asked) asked))
    (check (equal (let ((file buffer-file-name))
                    (with-temp-buffer (insert-file-contents file) (buffer-string)))
                  original)
           "the save wrote the rolled-back text")))

(deftest "jingu-cancel stops a running ask; it ends as cancelled, not as an error"
  (set-buffer lib-buffer)
  (let (done err)
    (jingu-ask "make greet informal" (lambda (e _) (setq done t err e)))
    ;; The model stalls on this turn: wait until the server has asked it.
    (wait-for "the stalled model turn"
              (lambda () (>= (length (with-temp-buffer (insert-file-contents (getenv "FX_LOG"))
                                                      (split-string (buffer-string) "\n" t)))
                             3)))
    (jingu-cancel)
    (wait-for "the cancelled answer" (lambda () done) 10)
    (check (eql (plist-get err :code) -32800) err)
    (check (equal jingu-mode-line "") jingu-mode-line)
    (check (null jingu--running) jingu--running)
    (check (equal (buffer-string) original) "nothing was edited")))

(deftest "inline completion: ghost text from the model appears, TAB accepts it, it is audited"
  (set-buffer lib-buffer)
  (check jingu-inline-completion-mode "jingu-eglot-setup turned ghost text on in Jingu's buffer")
  ;; A new line in bump's body, point at its indentation, as if the user had typed it.
  (goto-char (point-min))
  (search-forward "self.count += 1;")
  (end-of-line)
  (insert "\n        ")
  (let ((line (line-number-at-pos)))
    ;; What the idle timer after typing does (a batch Emacs runs no commands).
    (jingu-inline-complete)
    (wait-for "the ghost text" (lambda () jingu--ghost) 20)
    (let ((shown (overlay-get (car jingu--ghost) 'after-string)))
      (check (equal (substring-no-properties shown) "self.count += 1;") shown)
      (check (eq (get-text-property 0 'face shown) 'jingu-ghost) "shown in the ghost face"))
    (check (equal (buffer-substring (line-beginning-position) (line-end-position)) "        ")
           "the ghost text is not in the buffer until accepted")
    ;; Any other command dismisses it.
    (let ((this-command 'forward-char)) (jingu--ghost-post-command))
    (check (null jingu--ghost) "another command dismissed it")
    (check (not jingu-ghost-mode) "TAB is TAB again")
    ;; Asked again at the same place: the server answers from its cache of recent items.
    (jingu-inline-complete)
    (wait-for "the ghost text again" (lambda () jingu--ghost) 20)
    (check (eq (key-binding (kbd "TAB")) 'jingu-inline-accept) (key-binding (kbd "TAB")))
    (let ((this-command 'jingu-inline-accept)) (call-interactively #'jingu-inline-accept))
    (check (null jingu--ghost) "accepting removed the overlay")
    (check (= line (line-number-at-pos)) "point stays on the line")
    (check (equal (buffer-substring (line-beginning-position) (line-end-position))
                  "        self.count += 1;")
           (buffer-substring (line-beginning-position) (line-end-position)))
    (wait-for "the audit record of the accepted item"
              (lambda () (string-match-p "since_last_record" (shell-command-to-string
                                                         (concat jingu-server-path " audit log"))))
              10)))

(deftest "shutdown + exit over eglot's connection end the server with status 0"
  ;; eglot 1.9's own `eglot-shutdown' deletes the process right after `exit' (status 9), so the
  ;; protocol is driven here and eglot's sentinel then cleans up.
  (let ((proc (jsonrpc--process server)))
    (jsonrpc-request server :shutdown nil :timeout 10)
    (setf (eglot--shutdown-requested server) t)
    (jsonrpc-notify server :exit nil)
    (with-timeout (10 (error "server still running 10 s after exit"))
      (while (process-live-p proc) (accept-process-output nil 0.05)))
    (check (eq (process-exit-status proc) 0) (process-exit-status proc))))

(princ (format "emacs: %d passed, %d failed\n" passed failed))
(kill-emacs (if (= failed 0) 0 1))
