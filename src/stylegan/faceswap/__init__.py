"""Face swap: a generated person's face put into a video (seed 001's face video).

An identity set of one generated person (`stylegan latent variations --layers 0`), the faces of a target video,
a face-swap autoencoder trained on both (`model`, `train`), and the video re-rendered with the generated person's
face (`apply`)."""
