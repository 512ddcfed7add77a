"""metrics-server: the resource metrics API behind `kubectl top` and HorizontalPodAutoscalers."""
