import requests

API_KEY = "your-api-key"
BASE = "https://api.humanops.io/api/v1"

# Create a task
task = requests.post(f"{BASE}/tasks", json={
    "title": "Verify package delivery",
    "description": "Confirm the package was delivered to 456 Oak Ave, Apt 2B.",
    "task_type": "DELIVERY",
    "location": { "lat": 45.5152, "lng": -122.6784, "address": "456 Oak Ave, Portland, OR" },
    "reward_usd": 20,
    "deadline": "2026-02-07T12:00:00Z",
    "proof_requirements": ["1 photo of the delivered package", "Short note with where it was left"],
}, headers={
    "X-API-Key": API_KEY
}).json()

print(f"Task created: {task['task_id']}")

# Check status later
status = requests.get(
    f"{BASE}/tasks/{task['task_id']}",
    headers={"X-API-Key": API_KEY}
).json()

print(f"Status: {status['status']}")
