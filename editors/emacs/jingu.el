;;; jingu.el --- Jingu (AI coding agent over LSP) through eglot  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (eglot "1.9"))
;; Keywords: tools, languages

;;; Commentary:
;; Registers `jingu lsp' with eglot and adds commands over Jingu's workspace/executeCommand
;; contract (one JSON object argument each): `jingu-ask', `jingu-review', `jingu-snapshots',
;; `jingu-rollback'.  Edits arrive as workspace/applyEdit and confirmations as
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

;;;###autoload
(defun jingu-ask (instruction)
  "Ask Jingu to do INSTRUCTION on the region or the symbol at point."
  (interactive (list (read-string "Jingu: ")))
  (let* ((result (jingu-exec "jingu.ask" (jingu-ask-args instruction)))
         (edits (plist-get result :edits)))
    (message "Jingu: %s (run %s, %d edits)" (or (plist-get result :summary) "done")
             (plist-get result :run_id) (length edits))
    result))

;;;###autoload
(defun jingu-review ()
  "Ask Jingu to review the working-tree changes (results arrive as diagnostics)."
  (interactive)
  (jingu-exec "jingu.review" (list :uri (eglot--path-to-uri (buffer-file-name)))))

(defun jingu-snapshot-lines (snapshots root)
  "`compilation-mode' lines (FILE:1: ID TIME ACTOR OP TARGET) for SNAPSHOTS under ROOT."
  (cl-loop for s across snapshots
           append (cl-loop for p across (plist-get s :paths)
                           collect (format "%s:1: %s %s %s %s %s%s"
                                           (expand-file-name p root)
                                           (plist-get s :id) (plist-get s :time)
                                           (plist-get s :actor) (plist-get s :op)
                                           (plist-get s :target)
                                           (let ((run (plist-get s :run_id)))
                                             (if (stringp run) (concat " run " run) ""))))))

;;;###autoload
(defun jingu-snapshots ()
  "List Jingu's snapshots, newest first, in a buffer where RET visits the file."
  (interactive)
  (let ((snapshots (jingu-exec "jingu.snapshots" nil))
        (root (project-root (eglot--project (jingu--server)))))
    (with-current-buffer (get-buffer-create "*jingu-snapshots*")
      (let ((inhibit-read-only t))
        (erase-buffer)
        (insert (mapconcat #'identity (jingu-snapshot-lines snapshots root) "\n") "\n"))
      (compilation-mode)
      (display-buffer (current-buffer)))
    snapshots))

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

(provide 'jingu)
;;; jingu.el ends here
