"""Real images into the latent space and back out: projection (and, later, the encoder, alignment, editing).

Submodules are imported explicitly (`from stylegan.editing.projection import project`) so that importing one tool
never pulls in another's optional dependencies.
"""
