"""The bundled demo: UCI Adult, a gradient-boosted model, a full audit."""
