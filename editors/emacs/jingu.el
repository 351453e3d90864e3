;;; jingu.el --- Jingu (AI coding agent over LSP) through eglot  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (eglot "1.9"))
;; Keywords: tools, languages

;;; Commentary:
;; Registers `jingu lsp' with eglot and adds commands over Jingu's workspace/executeCommand
;; contract (one JSON object argument each): `jingu-ask' (asynchronous, progress in the mode
;; line, `jingu-cancel'), `jingu-review', `jingu-snapshots', `jingu-snapshot-diff',
;; `jingu-rollback', and ghost text while typing (`jingu-inline-completion-mode', TAB accepts).
;; Edits (and rollbacks of open buffers) arrive as workspace/applyEdit and confirmations as
;; window/showMessageRequest, which eglot handles itself.
;;
;;   (require 'jingu)
;;   (jingu-eglot-setup)          ; then M-x eglot in a supported buffer

;;; Code:

(require 'cl-lib)
(require 'eglot)
(require 'jsonrpc)

(defgroup jingu nil "Jingu, the AI coding agent, over eglot." :group 'tools)

(defcustom jingu-server-path "jingu"
  "The jingu binary (a bare name is looked up on `exec-path'); started as `jingu lsp'."
  :type 'string)

(defcustom jingu-major-modes
  '(rust-mode rust-ts-mode python-mode python-ts-mode js-mode js-ts-mode typescript-mode
    typescript-ts-mode tsx-ts-mode go-mode go-ts-mode java-mode java-ts-mode c-mode c-ts-mode
    c++-mode c++-ts-mode)
  "Major modes whose buffers `jingu-eglot-setup' connects to Jingu."
  :type '(repeat symbol))

(defcustom jingu-request-timeout 600
  "Seconds to wait for a Jingu command (an agent run can take a while)."
  :type 'integer)

(defun jingu--contact (&optional _interactive)
  "The eglot contact for Jingu."
  (list (or (executable-find jingu-server-path) jingu-server-path) "lsp"))

;;;###autoload
(defun jingu-eglot-setup ()
  "Make eglot use `jingu lsp' for `jingu-major-modes' (ahead of other servers)."
  (setq eglot-server-programs
        (cons (cons jingu-major-modes #'jingu--contact)
              (cl-remove #'jingu--contact eglot-server-programs :key #'cdr))))

(defun jingu--server ()
  (or (eglot-current-server) (user-error "Jingu: no eglot server here; run M-x eglot")))

(defun jingu--flush ()
  "Send eglot's pending didChange now: the server must see the buffer as it is."
  (when (bound-and-true-p eglot--managed-mode)
    (eglot--signal-textDocument/didChange)))

(defun jingu-exec (command arg)
  "Run Jingu COMMAND with the plist ARG (one JSON object) and return its result."
  (jingu--flush)
  (jsonrpc-request (jingu--server) :workspace/executeCommand
                   `(:command ,command :arguments [,(or arg (make-hash-table))])
                   :timeout jingu-request-timeout))

(defun jingu--symbol-at (symbols line)
  "Name path (Jingu's `detail') of the innermost of SYMBOLS containing 0-based LINE."
  (let (best)
    (cl-labels ((walk (list)
                  (seq-doseq (s list)
                    (let* ((r (plist-get s :range))
                           (start (plist-get (plist-get r :start) :line))
                           (end (plist-get (plist-get r :end) :line)))
                      (when (and (<= start line) (<= line end))
                        (setq best s)
                        (walk (plist-get s :children)))))))
      (walk symbols))
    (when best
      (let ((detail (plist-get best :detail)))
        (if (and (stringp detail) (not (string-empty-p detail))) detail (plist-get best :name))))))

(defun jingu-symbol-at-point ()
  "The name path of the symbol at point, from Jingu's documentSymbol."
  (jingu--flush)
  (jingu--symbol-at
   (jsonrpc-request (jingu--server) :textDocument/documentSymbol
                    `(:textDocument ,(eglot--TextDocumentIdentifier)))
   (1- (line-number-at-pos))))

(defun jingu-ask-args (instruction)
  "The `jingu.ask' argument for INSTRUCTION: the region's range, else the symbol at point."
  (append (list :instruction instruction :uri (eglot--path-to-uri (buffer-file-name)))
          (if (use-region-p)
              (list :range (list :start (eglot--pos-to-lsp-position (region-beginning))
                                 :end (eglot--pos-to-lsp-position (region-end))))
            (let ((symbol (jingu-symbol-at-point)))
              (and symbol (list :symbol symbol))))))

(defconst jingu--request-cancelled -32800
  "JSON-RPC's RequestCancelled: the answer to a request we cancelled.")

(defvar jingu--running nil
  "The running ask: (SERVER ID), for `jingu-cancel'.")

(defvar jingu-mode-line ""
  "What the mode line shows about Jingu: the running ask's latest progress.")
(put 'jingu-mode-line 'risky-local-variable t)
(unless (member '(:eval jingu-mode-line) global-mode-string)
  (setq global-mode-string (append global-mode-string '((:eval jingu-mode-line)))))

(defun jingu--set-mode-line (text)
  (setq jingu-mode-line (if text (concat " Jingu: " text) ""))
  (force-mode-line-update t))

(defun jingu--server-p (server)
  "Whether eglot SERVER is `jingu lsp'."
  (let ((cmd (ignore-errors (process-command (jsonrpc--process server)))))
    (and cmd (string-match-p "jingu\\'" (car cmd)) (equal (cadr cmd) "lsp"))))

;; eglot before 1.11 neither advertises nor handles work-done progress: ask Jingu for it and
;; accept its `window/workDoneProgress/create', so runs report their steps (newer eglot does this
;; itself and also shows them).
(unless (boundp 'eglot-report-progress)
  (cl-defmethod eglot-client-capabilities :around (server)
    (let ((caps (cl-call-next-method)))
      (if (jingu--server-p server)
          (plist-put caps :window (plist-put (copy-sequence (plist-get caps :window))
                                             :workDoneProgress t))
        caps)))
  (cl-defmethod eglot-handle-request
    (_server (_method (eql window/workDoneProgress/create)) &rest _)
    nil)
  (cl-defmethod eglot-handle-notification (_server (_method (eql $/progress)) &rest _)
    nil))

(cl-defmethod eglot-handle-notification :before
  (_server (_method (eql $/progress)) &key _token value &allow-other-keys)
  "Show the running ask's `$/progress' in the mode line."
  (when jingu--running
    (let ((kind (plist-get value :kind)))
      (jingu--set-mode-line
       (if (equal kind "end") "finishing"
         (or (plist-get value :message) (plist-get value :title) "running"))))))

(defun jingu--ask-done (result on-done)
  (setq jingu--running nil)
  (jingu--set-mode-line nil)
  (message "Jingu: %s (run %s, %d edits)" (or (plist-get result :summary) "done")
           (plist-get result :run_id) (length (plist-get result :edits)))
  (when on-done (funcall on-done nil result)))

(defun jingu--ask-failed (err on-done)
  (setq jingu--running nil)
  (jingu--set-mode-line nil)
  (if (eql (plist-get err :code) jingu--request-cancelled)
      (message "Jingu: ask cancelled")
    (message "Jingu: ask failed: %s" (plist-get err :message)))
  (when on-done (funcall on-done err nil)))

;;;###autoload
(defun jingu-ask (instruction &optional on-done)
  "Ask Jingu to do INSTRUCTION on the region or the symbol at point, without blocking Emacs.
Progress shows in the mode line; `jingu-cancel' stops the run.  ON-DONE, if given, is called
with (ERROR RESULT) when the run ends.  Returns the request id."
  (interactive (list (read-string "Jingu: ")))
  (when jingu--running
    (user-error "Jingu: an ask is already running (M-x jingu-cancel to stop it)"))
  (let* ((server (jingu--server))
         (args (jingu-ask-args instruction)))
    (jingu--flush)
    (jingu--set-mode-line "starting")
    ;; Emacs 28/29's `jsonrpc-async-request' returns nil; its worker returns (ID TIMER), and
    ;; the id is what `$/cancelRequest' needs.
    (let ((id (car (funcall (if (fboundp 'jsonrpc--async-request-1) #'jsonrpc--async-request-1
                              #'jsonrpc-async-request)
                    server :workspace/executeCommand
                    `(:command "jingu.ask" :arguments [,args])
                    :success-fn (lambda (result) (jingu--ask-done result on-done))
                    :error-fn (lambda (err) (jingu--ask-failed err on-done))
                    :timeout-fn (lambda ()
                                  (jingu--ask-failed '(:message "timed out") on-done))
                    :timeout jingu-request-timeout))))
      (setq jingu--running (list server id))
      id)))

;;;###autoload
(defun jingu-cancel ()
  "Cancel the running `jingu-ask' (`$/cancelRequest'); the run ends as cancelled."
  (interactive)
  (pcase jingu--running
    (`(,server ,id)
     (jsonrpc-notify server :$/cancelRequest `(:id ,id))
     (jingu--set-mode-line "cancelling")
     (message "Jingu: cancelling the ask"))
    (_ (user-error "Jingu: nothing is running"))))

;;;###autoload
(defun jingu-review ()
  "Ask Jingu to review the working-tree changes (results arrive as diagnostics)."
  (interactive)
  (jingu-exec "jingu.review" (list :uri (eglot--path-to-uri (buffer-file-name)))))

(defun jingu-diff-first-lines (diff)
  "Alist (PATH . LINE): the first changed line (1-based, new text) of each file in DIFF."
  (let (lines old cur at)
    (dolist (line (split-string (or diff "") "\n"))
      (cond
       ((string-prefix-p "diff --git " line) (setq old nil cur nil at nil))
       ((and (not at) (string-prefix-p "--- " line))
        (setq old (string-remove-prefix "a/" (substring line 4))))
       ((and (not at) (string-prefix-p "+++ " line))
        (let ((n (substring line 4)))
          (setq cur (if (equal n "/dev/null") old (string-remove-prefix "b/" n)))))
       ((string-match "\\`@@ -[0-9]+\\(?:,[0-9]+\\)? \\+\\([0-9]+\\)" line)
        (setq at (string-to-number (match-string 1 line))))
       ((and at cur (> (length line) 0))
        (let ((c (aref line 0)))
          (cond ((and (memq c '(?+ ?-)) (not (assoc cur lines)))
                 (push (cons cur (max at 1)) lines))
                ((memq c '(?\s ?+)) (cl-incf at)))))))
    lines))

(defun jingu-snapshot-lines (snapshots root &optional first-lines)
  "`compilation-mode' lines (FILE:LINE: ID TIME ACTOR OP TARGET) for SNAPSHOTS under ROOT.
FIRST-LINES maps a snapshot id to `jingu-diff-first-lines' of its diff (else line 1)."
  (cl-loop for s across snapshots
           append (cl-loop for p across (plist-get s :paths)
                           collect (format "%s:%d: %s %s %s %s %s%s"
                                           (expand-file-name p root)
                                           (or (cdr (assoc p (cdr (assoc (plist-get s :id)
                                                                         first-lines))))
                                               1)
                                           (plist-get s :id) (plist-get s :time)
                                           (plist-get s :actor) (plist-get s :op)
                                           (plist-get s :target)
                                           (let ((run (plist-get s :run_id)))
                                             (if (stringp run) (concat " run " run) ""))))))

;;;###autoload
(defun jingu-snapshots ()
  "List Jingu's snapshots, newest first, in a buffer where RET visits the file."
  (interactive)
  (let* ((snapshots (jingu-exec "jingu.snapshots" nil))
         (root (project-root (eglot--project (jingu--server))))
         (first-lines
          (cl-loop for s across snapshots
                   for i from 0 below 50  ; each entry on its changed lines, for the newest 50
                   collect (cons (plist-get s :id)
                                 (jingu-diff-first-lines (jingu-snapshot-diff-text
                                                          (plist-get s :id)))))))
    (with-current-buffer (get-buffer-create "*jingu-snapshots*")
      (let ((inhibit-read-only t))
        (erase-buffer)
        (insert (mapconcat #'identity (jingu-snapshot-lines snapshots root first-lines) "\n")
                "\n"))
      (compilation-mode)
      (display-buffer (current-buffer)))
    snapshots))

(defun jingu-snapshot-diff-text (id)
  "The unified diff of snapshot ID against its parent."
  (plist-get (jingu-exec "jingu.snapshotDiff" (list :snapshot_id id)) :diff))

;;;###autoload
(defun jingu-snapshot-diff (id)
  "Show snapshot ID's diff in a `diff-mode' buffer (default: the newest snapshot)."
  (interactive (list (read-string "Snapshot id (empty = newest): ")))
  (let* ((id (if (member id '("" nil))
                 (let ((list (jingu-exec "jingu.snapshots" (list :limit 1))))
                   (if (> (length list) 0) (plist-get (aref list 0) :id)
                     (user-error "Jingu: no snapshots yet")))
               id))
         (diff (jingu-snapshot-diff-text id))
         (root (project-root (eglot--project (jingu--server)))))
    (with-current-buffer (get-buffer-create (format "*jingu-diff %s*" id))
      (let ((inhibit-read-only t))
        (erase-buffer)
        (insert diff))
      (diff-mode)
      (setq default-directory root)
      (setq buffer-read-only t)
      (goto-char (point-min))
      (display-buffer (current-buffer))
      (current-buffer))))

;;;###autoload
(defun jingu-rollback (target)
  "Roll back TARGET: a snapshot id, \"run\" (the last run) or empty (the last edit)."
  (interactive (list (read-string "Roll back (snapshot id, \"run\", empty = last edit): ")))
  (let* ((snapshots (and (member target '("" "run" nil))
                         ;; Per-file `baseline' snapshots anchor history; they are not edits.
                         (cl-remove "baseline" (jingu-exec "jingu.snapshots" nil)
                                    :key (lambda (s) (plist-get s :op)) :test #'equal)))
         (latest (and snapshots
                      (if (> (length snapshots) 0) (aref snapshots 0)
                        (user-error "Jingu: there is no edit to roll back"))))
         (arg (cond ((equal target "run") (list :run_id (plist-get latest :run_id)))
                    ((member target '("" nil)) (list :snapshot_id (plist-get latest :id)))
                    (t (list :snapshot_id target)))))
    (prog1 (jingu-exec "jingu.rollback" arg)
      (message "Jingu: rolled back %s" (or (plist-get arg :snapshot_id) (plist-get arg :run_id))))))

;;; Inline completion (ghost text)
;; eglot has no client for `textDocument/inlineCompletion' (LSP 3.18), so Jingu's buffers get
;; their own: after typing, once Emacs is idle for `jingu-inline-completion-delay', the item at
;; point is asked for (a newer request cancels the older one with `$/cancelRequest') and shown
;; as an overlay; TAB inserts it and runs the item's command, which is what Jingu audits; any
;; other command dismisses it.

(defcustom jingu-inline-completion t
  "Whether `jingu-eglot-setup' turns on `jingu-inline-completion-mode' in Jingu's buffers."
  :type 'boolean)

(defcustom jingu-inline-completion-delay 0.1
  "Idle seconds after typing before Jingu is asked for ghost text."
  :type 'number)

(defcustom jingu-inline-completion-triggers
  '(self-insert-command newline newline-and-indent electric-newline-and-maybe-indent
    delete-backward-char backward-delete-char-untabify)
  "Commands after which ghost text is asked for."
  :type '(repeat symbol))

(defface jingu-ghost '((t :inherit shadow))
  "Face of Jingu's ghost text.")

(defvar-local jingu--ghost nil
  "The shown item: (OVERLAY TEXT COMMAND POS TICK).")
(defvar-local jingu--ghost-request nil
  "The request in flight: (SERVER ID).")
(defvar-local jingu--ghost-timer nil)

(defvar jingu-ghost-mode-map
  (let ((m (make-sparse-keymap)))
    (define-key m (kbd "TAB") #'jingu-inline-accept)
    (define-key m (kbd "<tab>") #'jingu-inline-accept)
    m)
  "Keys while ghost text is shown.")

(define-minor-mode jingu-ghost-mode
  "On while Jingu's ghost text is shown: TAB accepts it."
  :lighter nil :keymap jingu-ghost-mode-map)

(defun jingu--ghost-clear ()
  "Remove the shown ghost text."
  (when jingu--ghost
    (delete-overlay (car jingu--ghost))
    (setq jingu--ghost nil))
  (when jingu-ghost-mode (jingu-ghost-mode -1)))

(defun jingu--ghost-cancel-request ()
  "Cancel the request in flight, if any (its answer would be stale)."
  (pcase jingu--ghost-request
    (`(,server ,id)
     (when (jsonrpc-running-p server)
       (jsonrpc-notify server :$/cancelRequest `(:id ,id)))))
  (setq jingu--ghost-request nil))

(defun jingu--ghost-show (item pos tick)
  "Show ITEM's text at POS if the buffer is still as it was (TICK) and point is there."
  (let ((text (plist-get item :insertText)))
    (when (and (stringp text) (not (string-empty-p text))
               (= (point) pos) (= (buffer-modified-tick) tick))
      (let ((ov (make-overlay pos pos nil t nil)))
        ;; `cursor' keeps point before the ghost text, where typing goes on.
        (overlay-put ov 'after-string
                     (concat (propertize (substring text 0 1) 'face 'jingu-ghost 'cursor t)
                             (propertize (substring text 1) 'face 'jingu-ghost)))
        (overlay-put ov 'jingu-ghost t)
        (setq jingu--ghost (list ov text (plist-get item :command) pos tick))
        (jingu-ghost-mode 1)))))

;;;###autoload
(defun jingu-inline-complete ()
  "Ask Jingu for ghost text at point (what typing does in `jingu-inline-completion-mode')."
  (interactive)
  (jingu--ghost-clear)
  (jingu--ghost-cancel-request)
  (let ((server (eglot-current-server)))
    (when (and server (jingu--server-p server) buffer-file-name)
      (jingu--flush)
      (let* ((buf (current-buffer))
             (pos (point))
             (tick (buffer-modified-tick))
             (params `(:textDocument ,(eglot--TextDocumentIdentifier)
                       :position ,(eglot--pos-to-lsp-position pos)
                       :context (:triggerKind 2)))
             (done (lambda (&optional result)
                     (when (buffer-live-p buf)
                       (with-current-buffer buf
                         (setq jingu--ghost-request nil)
                         (let* ((items (if (vectorp result) result (plist-get result :items)))
                                (item (and (> (length items) 0) (aref items 0))))
                           (when item (jingu--ghost-show item pos tick)))))))
             (id (car (funcall (if (fboundp 'jsonrpc--async-request-1)
                                   #'jsonrpc--async-request-1 #'jsonrpc-async-request)
                               server :textDocument/inlineCompletion params
                               :success-fn done
                               :error-fn (lambda (_) (funcall done))
                               :timeout-fn (lambda () (funcall done))
                               :timeout 10))))
        (setq jingu--ghost-request (list server id))))))

;;;###autoload
(defun jingu-inline-accept ()
  "Insert the shown ghost text (and tell Jingu, which audits it); without one, indent."
  (interactive)
  (pcase jingu--ghost
    (`(,_ov ,text ,command ,pos ,_tick)
     (jingu--ghost-clear)
     (goto-char pos)
     (insert text)
     (when command
       (jsonrpc-async-request (jingu--server) :workspace/executeCommand
                              `(:command ,(plist-get command :command)
                                :arguments ,(or (plist-get command :arguments) []))
                              :success-fn #'ignore
                              :error-fn (lambda (err)
                                          (message "Jingu: accepting the completion failed: %s"
                                                   (plist-get err :message))))))
    (_ (indent-for-tab-command))))

(defun jingu--ghost-idle (buf)
  (when (buffer-live-p buf)
    (with-current-buffer buf
      (setq jingu--ghost-timer nil)
      (when (eq buf (window-buffer (selected-window)))
        (jingu-inline-complete)))))

(defun jingu--ghost-post-command ()
  "Dismiss ghost text after any other command; ask again after typing."
  (unless (eq this-command 'jingu-inline-accept)
    (jingu--ghost-clear)
    (when jingu--ghost-timer
      (cancel-timer jingu--ghost-timer)
      (setq jingu--ghost-timer nil))
    (if (memq this-command jingu-inline-completion-triggers)
        (setq jingu--ghost-timer
              (run-with-idle-timer jingu-inline-completion-delay nil
                                   #'jingu--ghost-idle (current-buffer)))
      (jingu--ghost-cancel-request))))

;;;###autoload
(define-minor-mode jingu-inline-completion-mode
  "Ghost text from Jingu while typing: TAB accepts it, any other command dismisses it."
  :lighter nil
  (if jingu-inline-completion-mode
      (add-hook 'post-command-hook #'jingu--ghost-post-command nil t)
    (remove-hook 'post-command-hook #'jingu--ghost-post-command t)
    (jingu--ghost-clear)
    (jingu--ghost-cancel-request)))

(defun jingu--maybe-inline-completion ()
  "In buffers eglot manages with Jingu, follow `jingu-inline-completion'."
  (let ((server (eglot-current-server)))
    (when (and server (jingu--server-p server))
      (jingu-inline-completion-mode
       (if (and jingu-inline-completion (bound-and-true-p eglot--managed-mode)) 1 -1)))))

(add-hook 'eglot-managed-mode-hook #'jingu--maybe-inline-completion)

(provide 'jingu)
;;; jingu.el ends here
