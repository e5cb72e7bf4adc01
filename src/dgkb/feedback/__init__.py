"""Belevings- and feedbackdata that have no other home: ratings, complaints, reports."""
