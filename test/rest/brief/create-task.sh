curl -X POST https://api.humanops.io/api/v1/tasks \
  -H "X-API-Key: YOUR_API_KEY" \
  -H "Content-Type: application/json" \
  -d '{
    "title": "Photo of storefront",
    "description": "Take 2 clear photos showing the full facade and signage.",
    "task_type": "PHOTO",
    "location": { "lat": 30.2672, "lng": -97.7431, "address": "123 Main St, Austin, TX" },
    "reward_usd": 15,
    "deadline": "2026-02-07T18:00:00Z",
    "proof_requirements": ["Full facade photo", "Close-up of signage"]
  }'
