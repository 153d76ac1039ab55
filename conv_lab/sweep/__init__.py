"""The kernel sweep: steps over the padded grid (numpy), pooling, drawing, the animation, the offline player page
and the render service that builds players in a worker process. Imports core and render, no other family."""
