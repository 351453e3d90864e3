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

;; Emacs 28 ships no rust-mode; a minimal one gives eglot the languageId "rust".
(unless (fboundp 'rust-mode) (define-derived-mode rust-mode prog-mode "Rust"))
(add-to-list 'auto-mode-alist '("\\.rs\\'" . rust-mode))
(setq jingu-server-path (getenv "JINGU_BIN")
      eglot-confirm-server-initiated-edits nil
      eglot-sync-connect t
      make-backup-files nil
      create-lockfiles nil)
(jingu-eglot-setup)

(defvar ws (file-name-as-directory (getenv "FX_WS")))
(find-file (concat ws "src/lib.rs"))
(defvar original (buffer-string))
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

(deftest "jingu-ask edits the buffer after an Apply confirmation"
  (goto-char (point-min))
  (search-forward "bonjour {name}")
  (let ((result (cl-letf (((symbol-function 'completing-read)
                           (lambda (prompt &rest _) (push prompt prompts) "Apply")))
                  (jingu-ask "make greet informal"))))
    (check (= 1 (length (plist-get result :edits))) result)
    (check (equal (buffer-string) (expected-after-ask)) (buffer-string))
    (check (string-match-p "salut" (car prompts)) prompts)
    (check (equal (plist-get (jingu-ask-args "x") :symbol) "greet") (jingu-ask-args "x"))))

(deftest "jingu-snapshots lists the run and jingu-rollback undoes it"
  (let* ((snaps (jingu-snapshots))
         (lines (jingu-snapshot-lines snaps ws)))
    (check (>= (length snaps) 1) snaps)
    (check (string-prefix-p (concat ws "src/lib.rs:1: ") (car lines)) lines)
    ;; The server rewrites the file on disk before it edits the open (modified) buffer, so Emacs
    ;; asks whether to reread it from disk: answer no (keep the buffer, let the edit apply), and
    ;; go ahead if it warns that the file changed on disk, as a user would.
    (cl-letf (((symbol-function 'ask-user-about-supersession-threat) #'ignore)
              ((symbol-function 'yes-or-no-p) (lambda (prompt) (push prompt prompts) nil)))
      (jingu-rollback "run"))
    (check (equal (buffer-string) original) (buffer-string))))

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
